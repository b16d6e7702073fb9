import { describe, expect, it } from "vitest";
import { generateToken, hashToken, tokenMatchesHash } from "../src/auth/crypto.ts";

// The service token is checked against its stored SHA-256 hash: the whole
// hash, in constant time. Wrong tokens that differ early prove nothing about a
// comparison that stops at a prefix; these differ only at the end.
describe("service token comparison", () => {
  const token = "suite-service-token-0123456789abcdef";
  const stored = hashToken(token);
  const flipLast = (hex: string) => hex.slice(0, -1) + (hex.endsWith("0") ? "1" : "0");

  it("accepts the token its hash was made from", () => {
    expect(stored).toMatch(/^[0-9a-f]{64}$/);
    expect(tokenMatchesHash(token, stored)).toBe(true);
  });

  it("refuses a stored hash that differs only in its last hex digit", () => {
    expect(tokenMatchesHash(token, flipLast(stored))).toBe(false);
  });

  it("refuses a truncated stored hash, however much of it matches", () => {
    for (const length of [63, 62, 32, 8, 1, 0]) expect(tokenMatchesHash(token, stored.slice(0, length)), `first ${length} hex digits`).toBe(false);
  });

  it("refuses a stored hash with extra digits after the right ones", () => {
    expect(tokenMatchesHash(token, `${stored}00`)).toBe(false);
  });

  it("refuses a token that differs only in its last character, and an empty token", () => {
    expect(tokenMatchesHash(`${token.slice(0, -1)}e`, stored)).toBe(false);
    expect(tokenMatchesHash("", stored)).toBe(false);
  });

  it("refuses anything that is not the hash: the token itself, garbage", () => {
    expect(tokenMatchesHash(token, token)).toBe(false);
    expect(tokenMatchesHash(token, "not hex at all")).toBe(false);
  });

  it("hashes tokens to distinct SHA-256 hex digests and generates distinct url-safe tokens", () => {
    expect(hashToken("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const a = generateToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generateToken()).not.toBe(a);
    expect(generateToken(16)).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});
