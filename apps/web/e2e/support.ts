import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Locator, type Page } from "playwright-core";

export const WEB_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const REPO_ROOT = resolve(WEB_ROOT, "../..");
/**
 * Every run saves its screenshots under test-results/; UPDATE_SCREENSHOTS=1
 * writes them over the committed ones the README shows instead.
 */
export const SCREENSHOTS = join(REPO_ROOT, process.env.UPDATE_SCREENSHOTS === "1" ? "docs/screenshots" : "test-results/screenshots");
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** TOOLCHAIN.md: the flags that work with Debian's Chromium, also as root. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/**
 * The API serves apps/web/dist only if it exists when it starts: build it first
 * when it is missing or older than any source.
 */
export function ensureWebBuilt(): void {
  const built = join(WEB_ROOT, "dist/index.html");
  const sources = Math.max(
    newestMtime(join(WEB_ROOT, "src")),
    newestMtime(join(WEB_ROOT, "public")),
    newestMtime(join(WEB_ROOT, "index.html")),
    newestMtime(join(WEB_ROOT, "vite.config.ts")),
    newestMtime(join(REPO_ROOT, "packages/contract/src")),
  );
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  const vite = join(WEB_ROOT, "node_modules/vite/bin/vite.js");
  // Vitest sets NODE_ENV=test, which would make Vite bundle React's development build.
  execFileSync(process.execPath, [vite, "build", "--logLevel", "warn"], {
    cwd: WEB_ROOT,
    stdio: "inherit",
    env: { ...process.env, NODE_ENV: "production" },
  });
}

/** Debian's Chromium, never a downloaded browser; missing means the test fails and says what to do. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}. Install it with \`apt-get install -y chromium\` (Debian's package; see TOOLCHAIN.md), or set CHROMIUM_PATH.`,
    );
  }
  // Playwright gives every launch a fresh, throwaway user-data dir.
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

export async function screenshot(page: Page, name: string, mask: Locator[] = []): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  // Pictures of finished pages, not of spinners.
  await page.waitForFunction(() => !document.querySelector(".state-loading"), undefined, { timeout: 10_000 });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true, mask, animations: "disabled" });
}

/** Collects what the browser complained about: CSP violations and uncaught errors must not happen. */
export function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (msg) => {
    const text = msg.text();
    if (msg.type() === "error" && /Content Security Policy|Refused to/i.test(text)) problems.push(`console: ${text}`);
  });
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  return problems;
}
