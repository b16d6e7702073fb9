import { type ComponentType, lazy } from "react";

const RELOADED_KEY = "ops.reloaded-for-chunk";

/**
 * A page loaded on demand. When its chunk cannot be fetched — the server was
 * updated while this tab was open, so the old build's files are gone — the
 * page reloads once to get the new build, instead of showing an error; a
 * second failure in a row is a real one and is thrown.
 */
export function lazyPage<P extends object>(load: () => Promise<ComponentType<P>>) {
  return lazy(async () => {
    try {
      const page = await load();
      window.sessionStorage?.removeItem(RELOADED_KEY);
      return { default: page };
    } catch (error) {
      if (window.sessionStorage && !window.sessionStorage.getItem(RELOADED_KEY)) {
        window.sessionStorage.setItem(RELOADED_KEY, "1");
        window.location.reload();
        // Never settles: the reload replaces the page.
        return new Promise<{ default: ComponentType<P> }>(() => {});
      }
      throw error;
    }
  });
}
