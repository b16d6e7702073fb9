import { createRequire } from "node:module";
import { populateGlobal } from "vitest/environments";

/**
 * A DOM for component tests on Node 20. The root config's "web" project names
 * Vitest's built-in `jsdom` environment, which loads the root's jsdom 31; that
 * one (through undici 8) needs Node 22 and fails to start here. Test files run
 * with `// @vitest-environment node` and import this module FIRST: it installs
 * apps/web's own jsdom 29 (Node ^20.19) as the globals before React loads.
 */
// A plain require from this folder: a bare import would resolve from the repository root.
interface JsdomModule {
  JSDOM: new (html: string, options: { url: string; pretendToBeVisual: boolean }) => { window: unknown };
}
const { JSDOM } = createRequire(import.meta.url)("jsdom") as JsdomModule;

if (typeof (globalThis as { document?: unknown }).document === "undefined") {
  const dom = new JSDOM("<!DOCTYPE html>", { url: "http://localhost:3000/", pretendToBeVisual: true });
  populateGlobal(globalThis, dom.window, { bindFunctions: true });
}
