import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Every log a test run produces goes here, so the secrets scan
 * (tests/secrets) can read all of them after the suites have run.
 */
export const TEST_LOG_DIR = resolve(fileURLToPath(new URL("../..", import.meta.url)), "test-results/logs");

let seq = 0;
export function testLogFile(name: string): string {
  mkdirSync(TEST_LOG_DIR, { recursive: true });
  return join(TEST_LOG_DIR, `${name}-${process.pid}-${Date.now().toString(36)}-${++seq}.log`);
}
