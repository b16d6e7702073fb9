import { scryptSync } from "node:crypto";
import { beforeEach, describe, expect, it } from "vitest";
import { generateToken, hashPassword, hashToken, tokenMatchesHash, verifyPassword } from "../src/auth/crypto.ts";

// The service token is checked against its stored SHA-256 hash: the whole
// hash, in constant time. Wrong tokens that differ early prove nothing about a
// comparison that stops at a prefix; these differ only at the end.
describe("service token comparison", () => {
  const token = "suite-service-token-0123456789abcdef";
  // Hashed inside each test, not while the file loads: a broken hash then fails tests instead of the file.
  let stored = "";
  beforeEach(() => {
    stored = hashToken(token);
  });
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

describe("password hashes", () => {
  it("stores scrypt with its parameters and a random salt, and verifies only the right password", async () => {
    const stored = await hashPassword("correct horse battery");
    const [scheme, n, r, p, salt, key] = stored.split("$");
    expect([scheme, n, r, p]).toEqual(["scrypt", String(2 ** 15), "8", "1"]);
    expect(Buffer.from(salt!, "base64url")).toHaveLength(16);
    expect(Buffer.from(key!, "base64url")).toHaveLength(32);
    expect(await hashPassword("correct horse battery")).not.toBe(stored);
    expect(await verifyPassword("correct horse battery", stored)).toBe(true);
    expect(await verifyPassword("correct horse batterY", stored)).toBe(false);
    expect(await verifyPassword("", stored)).toBe(false);
  });

  it("verifies records by the parameters they carry, as any scrypt computes them (older, cheaper records keep working)", async () => {
    const salt = Buffer.from("0123456789abcdef");
    for (const N of [2 ** 14, 2 ** 15]) {
      const key = scryptSync("an older password", salt, 32, { N, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
      const record = `scrypt$${N}$8$1$${salt.toString("base64url")}$${key.toString("base64url")}`;
      expect(await verifyPassword("an older password", record), `N=${N}`).toBe(true);
      expect(await verifyPassword("another password", record), `N=${N}`).toBe(false);
    }
  });

  it("refuses stored values that are not a complete scrypt record", async () => {
    const stored = await hashPassword("pw-123456789");
    const parts = stored.split("$");
    expect(await verifyPassword("pw-123456789", `bcrypt$${parts.slice(1).join("$")}`)).toBe(false);
    expect(await verifyPassword("pw-123456789", parts.slice(0, 5).join("$"))).toBe(false);
    expect(await verifyPassword("pw-123456789", [...parts.slice(0, 4), "", parts[5]].join("$"))).toBe(false);
    expect(await verifyPassword("pw-123456789", "")).toBe(false);
  });
});
