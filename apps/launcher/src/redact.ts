/**
 * Replaces the credentials the launcher knows with `***` in agent output
 * before it leaves the host, chunk by chunk. A chunk never ends inside a
 * secret, nor on a partial one that the next bytes could complete, nor inside
 * a UTF-8 character: the cut moves back, and those bytes start the next chunk.
 * Every chunk starts where the previous one was cut, so no secret is ever split
 * across two chunks and none reaches the API in pieces.
 */

export const REDACTED = "***";

/** Shorter values would censor ordinary words; real keys and tokens are far longer. */
export const MIN_SECRET_LENGTH = 8;

export interface Cut {
  /** Raw bytes of the buffer the chunk covers (its next chunk starts there). */
  length: number;
  /** Those bytes as text, secrets replaced, NUL (which PostgreSQL text cannot hold) replaced by U+FFFD. */
  text: string;
}

export class SecretRedactor {
  private readonly secrets: Buffer[];

  constructor(secrets: Iterable<string>) {
    const unique = new Set([...secrets].filter((s) => s.length >= MIN_SECRET_LENGTH));
    // Longest first: a secret that contains another is replaced whole.
    this.secrets = [...unique].map((s) => Buffer.from(s, "utf8")).sort((a, b) => b.length - a.length);
  }

  /**
   * The part of `buffer` that can be sent now, redacted. `final`: nothing
   * follows (the run ended and this is the rest of the file), so the cut is
   * the end of the buffer.
   */
  cut(buffer: Buffer, final: boolean): Cut {
    const found = this.occurrences(buffer);
    let end = final ? buffer.length : buffer.length - this.partialSecretSuffix(buffer);
    if (!final) end = utf8Boundary(buffer, end);
    // A complete secret that straddles the cut (possible when its end also
    // starts another secret): cut before it instead.
    for (;;) {
      const straddling = found.find(([start, stop]) => start < end && stop > end);
      if (!straddling) break;
      end = straddling[0];
    }
    let text = "";
    let at = 0;
    for (const [start, stop] of found) {
      if (stop > end) break;
      text += buffer.subarray(at, start).toString("utf8") + REDACTED;
      at = stop;
    }
    text += buffer.subarray(at, end).toString("utf8");
    return { length: end, text: text.replaceAll("\u0000", "\uFFFD") };
  }

  /** A whole text with the secrets replaced (a log tail quoted in a report). */
  redactText(text: string): string {
    let out = text;
    for (const secret of this.secrets) out = out.replaceAll(secret.toString("utf8"), REDACTED);
    return out;
  }

  /** Non-overlapping occurrences, in order; where two overlap, the earlier (then the longer) wins. */
  private occurrences(buffer: Buffer): Array<[number, number]> {
    const all: Array<[number, number]> = [];
    for (const secret of this.secrets) {
      for (let i = buffer.indexOf(secret); i >= 0; i = buffer.indexOf(secret, i + 1)) all.push([i, i + secret.length]);
    }
    all.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    const kept: Array<[number, number]> = [];
    for (const range of all) {
      const last = kept[kept.length - 1];
      if (last && range[0] < last[1]) {
        last[1] = Math.max(last[1], range[1]);
        continue;
      }
      kept.push([...range]);
    }
    return kept;
  }

  /** Length of the longest end of `buffer` that is the beginning of a secret (held back until more arrives). */
  private partialSecretSuffix(buffer: Buffer): number {
    let longest = 0;
    for (const secret of this.secrets) {
      for (let k = Math.min(secret.length - 1, buffer.length); k > longest; k--) {
        if (buffer.compare(secret, 0, k, buffer.length - k, buffer.length) === 0) {
          longest = k;
          break;
        }
      }
    }
    return longest;
  }
}

/** `end`, moved back to the start of a UTF-8 character the buffer holds only part of. */
export function utf8Boundary(buffer: Buffer, end: number): number {
  for (let back = 1; back <= 3 && end - back >= 0; back++) {
    const byte = buffer[end - back]!;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    const size = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return back < size ? end - back : end;
  }
  return end;
}
