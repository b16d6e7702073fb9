import { mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openWorkerLog } from "./worker-log.ts";

const dir = mkdtempSync(join(tmpdir(), "worker-log-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SERVICE_TOKEN = "service-token-0123456789abcdef";
const TASK_TOKEN = "task-token-Zx9_Qw8-Er7_Ty6-Ui5";

function opened(name: string) {
  const path = join(dir, name, "launcher.log");
  const echoed: string[] = [];
  const log = openWorkerLog(path, { secrets: [SERVICE_TOKEN], echo: { write: (line) => echoed.push(line) } });
  const lines = (file = path) =>
    readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { path, log, echoed, lines };
}

describe("worker log", () => {
  it("writes one JSON line per event to the file and echoes it to stderr, with level name and ISO time", () => {
    const { log, echoed, lines } = opened("lines");
    log.logger.info({ task_id: 7, attempt: 1 }, "agent started");
    log.logger.warn({ error: "UNAVAILABLE: fetch failed" }, "finished report failed; will retry");
    const [started, retry] = lines();
    expect(started).toMatchObject({ level: "info", msg: "agent started", task_id: 7, attempt: 1 });
    expect(new Date(started!.time as string).toISOString()).toBe(started!.time);
    expect(retry).toMatchObject({ level: "warn", msg: "finished report failed; will retry" });
    expect(echoed.map((l) => JSON.parse(l).msg)).toEqual(["agent started", "finished report failed; will retry"]);
    log.close();
  });

  it("censors the API's redaction paths and every known secret value, even inside a message", () => {
    const { log, lines } = opened("secrets");
    log.hide(TASK_TOKEN);
    log.logger.error({ payload: { token: "x", task_token: TASK_TOKEN }, error: `401 for token ${SERVICE_TOKEN}` }, `claim carried ${TASK_TOKEN}`);
    log.logger.info({ quoted: `"${SERVICE_TOKEN}"` }, "a quoted secret is still the secret");
    const text = readFileSync(join(dir, "secrets", "launcher.log"), "utf8");
    expect(text).not.toContain(SERVICE_TOKEN);
    expect(text).not.toContain(TASK_TOKEN);
    const [first] = lines();
    expect(first).toMatchObject({ payload: { token: "[redacted]", task_token: "[redacted]" }, error: "401 for token [redacted]", msg: "claim carried [redacted]" });
    log.close();
  });

  it("does not treat short values as secrets (they would censor ordinary words)", () => {
    const path = join(dir, "short", "launcher.log");
    const log = openWorkerLog(path, { secrets: ["t"], echo: { write: () => {} } });
    log.hide("abc");
    log.logger.info({ detail: "abc" }, "started");
    expect(readFileSync(path, "utf8")).toContain('"msg":"started"');
    expect(readFileSync(path, "utf8")).toContain('"detail":"abc"');
    log.close();
  });

  it("reopens the file after logrotate moved it (SIGHUP)", () => {
    const { path, log, lines } = opened("rotate");
    log.logger.info("before rotation");
    renameSync(path, `${path}.1`);
    log.reopen();
    log.logger.info("after rotation");
    expect(lines(`${path}.1`).map((l) => l.msg)).toEqual(["before rotation"]);
    expect(lines().map((l) => l.msg)).toEqual(["after rotation"]);
    log.close();
  });

  it('"-" logs to stderr only', () => {
    const echoed: string[] = [];
    const log = openWorkerLog("-", { echo: { write: (line) => echoed.push(line) } });
    log.logger.info("to the journal");
    expect(JSON.parse(echoed[0]!)).toMatchObject({ level: "info", msg: "to the journal" });
  });

  it("refuses a file it cannot write, naming the variable", () => {
    expect(() => openWorkerLog("/dev/null/launcher.log")).toThrow(/OPS_LAUNCHER_LOG: cannot write \/dev\/null\/launcher\.log/);
  });
});
