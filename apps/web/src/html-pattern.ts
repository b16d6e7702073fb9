/**
 * A contract pattern as an HTML `pattern` attribute, so a form refuses what
 * the API would. The browser anchors the attribute itself and compiles it
 * with the `v` flag, which rejects a bare `-` closing a character class (and
 * then ignores the attribute altogether): that `-` is escaped.
 */
export function htmlPattern(pattern: RegExp): string {
  return pattern.source.replace(/^\^/, "").replace(/\$$/, "").replaceAll("-]", "\\-]");
}
