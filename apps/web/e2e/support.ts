import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from "playwright-core";
import postgres from "postgres";
import { createFreshDatabase, type FreshDatabase } from "../../../tests/support/postgres.ts";
import { restClient, type SpawnedApi, spawnApi } from "../../../tests/support/spawn-api.ts";

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
  const upToDate = () => {
    const sources = Math.max(
      newestMtime(join(WEB_ROOT, "src")),
      newestMtime(join(WEB_ROOT, "public")),
      newestMtime(join(WEB_ROOT, "index.html")),
      newestMtime(join(WEB_ROOT, "vite.config.ts")),
      newestMtime(join(REPO_ROOT, "packages/contract/src")),
    );
    return existsSync(built) && statSync(built).mtimeMs >= sources;
  };
  if (upToDate()) return;
  // Browser suites run in parallel: one builds while the others wait (mkdir is atomic), then all use its output.
  const lock = join(WEB_ROOT, ".build-lock");
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`another suite has held ${lock} for 3 minutes; remove it if no build is running`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    }
  }
  try {
    if (upToDate()) return;
    const vite = join(WEB_ROOT, "node_modules/vite/bin/vite.js");
    // Vitest sets NODE_ENV=test, which would make Vite bundle React's development build.
    execFileSync(process.execPath, [vite, "build", "--logLevel", "warn"], {
      cwd: WEB_ROOT,
      stdio: "inherit",
      env: { ...process.env, NODE_ENV: "production" },
    });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
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

/** Signs in through the form (the language is whatever the page shows). */
export async function signIn(page: Page, baseUrl: string, username: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  const user = page.locator("input[name=username]");
  await user.waitFor();
  await user.fill(username);
  await page.locator("input[name=password]").fill(password);
  await page.locator("input[name=password]").press("Enter");
  await page.locator("header.topbar").waitFor();
}

/** How far the page scrolls sideways (0: it fits the window). */
export function sidewaysOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

/** The text a person sees (closed <details> and hidden elements excluded). */
export function visibleText(page: Page): Promise<string> {
  return page.locator("body").innerText();
}

/** The words the app shows, leaving out raw records it displays as data (`[data-raw]`, e.g. dispatch_output). */
export function visibleWords(page: Page): Promise<string> {
  return page.evaluate(() => {
    const raw = [...document.querySelectorAll<HTMLElement>("[data-raw]")].filter((el) => !el.hidden);
    for (const el of raw) el.hidden = true;
    const text = document.body.innerText;
    for (const el of raw) el.hidden = false;
    return text;
  });
}

/** A page of its own (a fresh browser context) at `width`, Spanish, with its problems watched. */
export async function openPage(browser: Browser, width = 1280): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width, height: 900 }, locale: "es-ES" });
  const page = await context.newPage();
  // Generous: CI shares two cores with other suites.
  page.setDefaultTimeout(30_000);
  return { context, page, problems: watchProblems(page) };
}

export interface BrowserStack {
  browser: Browser;
  database: FreshDatabase;
  /** The suite's database, for what no procedure does (ageing a claim). */
  sql: postgres.Sql;
  api: SpawnedApi;
  /** REST as the service token the API started with. */
  rest: ReturnType<typeof restClient>;
  context: BrowserContext;
  page: Page;
  problems: string[];
  close(): Promise<void>;
}

/**
 * Chromium, the built SPA and the real API on a fresh PostgreSQL database,
 * with one page open. The background watchdog is held back (an hour): a suite
 * that ages a claim sees it stale until it reconciles it itself.
 */
export async function startStack(name: string): Promise<BrowserStack> {
  // No Chromium is a failure that says what to install, before anything else starts.
  const browser = await launchChromium();
  ensureWebBuilt();
  const database = await createFreshDatabase(`ops_e2e_${name}`);
  const sql = postgres(database.url, { max: 2, onnotice: () => {} });
  const api = await spawnApi({ databaseUrl: database.url, env: { OPS_WATCHDOG_INTERVAL_MS: "3600000" } });
  const { context, page, problems } = await openPage(browser);
  return {
    browser,
    database,
    sql,
    api,
    rest: restClient(api.apiBase, { "X-OPS-Service-Token": api.serviceToken }),
    context,
    page,
    problems,
    async close() {
      await context.close();
      await browser.close();
      await api.stop();
      await sql.end();
      await database.drop();
    },
  };
}
