import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { REDACTED, SecretRedactor, utf8Boundary } from "./redact.ts";

const TOKEN = "opsw_Zk3mQ9vR2tYx8LpN4sWc7HjD1fGb6KeA0uIoPq5";
const API_KEY = "sk-ant-api03-secret-value-for-tests";

/**
 * What the streamer does: the file grows by `pieces`, and after each piece
 * the launcher cuts what it may send from its acknowledged offset; at the end
 * the rest goes out as final. Answers the chunks' texts.
 */
function stream(redactor: SecretRedactor, pieces: Buffer[]): string[] {
  let file = Buffer.alloc(0);
  let acked = 0;
  const texts: string[] = [];
  for (const piece of pieces) {
    file = Buffer.concat([file, piece]);
    const cut = redactor.cut(file.subarray(acked), false);
    if (cut.length > 0) texts.push(cut.text);
    acked += cut.length;
  }
  const rest = redactor.cut(file.subarray(acked), true);
  texts.push(rest.text);
  acked += rest.length;
  expect(acked).toBe(file.length);
  return texts;
}

const splitAt = (text: string, ...at: number[]) => {
  const bytes = Buffer.from(text);
  const points = [0, ...at, bytes.length];
  return points.slice(1).map((end, i) => bytes.subarray(points[i], end));
};

describe("redacting agent output chunk by chunk", () => {
  const redactor = new SecretRedactor([TOKEN, API_KEY, "short"]);

  it("replaces a secret split across two chunks, at every split point", () => {
    const text = `curl -H "X-OPS-Task-Token: ${TOKEN}" http://api\n`;
    const start = text.indexOf(TOKEN);
    for (let at = start - 2; at <= start + TOKEN.length + 2; at++) {
      const texts = stream(redactor, splitAt(text, at));
      expect(texts.join("")).toBe(`curl -H "X-OPS-Task-Token: ${REDACTED}" http://api\n`);
      for (const t of texts) expect(t).not.toContain(TOKEN.slice(0, 8));
    }
  });

  it("never lets any piece of a secret out, however the output is split (property)", () => {
    const arbitraryText = fc.array(
      fc.oneof(fc.constant(TOKEN), fc.constant(API_KEY), fc.constant(TOKEN.slice(0, 20)), fc.string({ maxLength: 30 }), fc.constant("ñandú 🚀\n")),
      { maxLength: 12 },
    );
    fc.assert(
      fc.property(arbitraryText, fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 8 }), (parts, cuts) => {
        const text = parts.join("");
        const bytes = Buffer.byteLength(text);
        const points = [...new Set(cuts.map((c) => c % (bytes + 1)))].sort((a, b) => a - b);
        const texts = stream(redactor, splitAt(text, ...points));
        const expected = text.replaceAll(TOKEN, REDACTED).replaceAll(API_KEY, REDACTED);
        expect(texts.join("")).toBe(expected);
        // No chunk carries a fragment of a secret that the whole does not (a prefix left dangling).
        for (const t of texts) {
          if (!expected.includes(TOKEN.slice(0, 20))) expect(t).not.toContain(TOKEN.slice(0, 20));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("holds back only what could still become a secret: ordinary output goes out at once", () => {
    expect(redactor.cut(Buffer.from("step 1 done\n"), false)).toEqual({ length: 12, text: "step 1 done\n" });
    const partial = Buffer.from(`token: ${TOKEN.slice(0, 10)}`);
    expect(redactor.cut(partial, false)).toEqual({ length: 7, text: "token: " });
    expect(redactor.cut(partial, true).text).toBe(`token: ${TOKEN.slice(0, 10)}`);
  });

  it("never cuts inside a UTF-8 character, and replaces NUL", () => {
    const bytes = Buffer.from("año 🚀");
    expect(utf8Boundary(bytes, 2)).toBe(1);
    expect(utf8Boundary(bytes, 3)).toBe(3);
    expect(utf8Boundary(bytes, bytes.length - 1)).toBe(bytes.length - 4);
    expect(redactor.cut(bytes.subarray(0, bytes.length - 2), false).text).toBe("año ");
    expect(redactor.cut(Buffer.from("a\u0000b"), true).text).toBe("a\uFFFDb");
  });

  it("ignores values too short to be credentials", () => {
    expect(redactor.cut(Buffer.from("a short line\n"), true).text).toBe("a short line\n");
  });
});
