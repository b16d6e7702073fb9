/**
 * Terminal colour codes in agent output, turned into styled segments: the 16
 * SGR colours (foreground and background), bold, dim, italic and underline are
 * kept as classes (the app's CSP allows no inline styles); every other escape
 * sequence (cursor moves, titles, hyperlinks) is dropped, and so are carriage
 * returns, so no escape garbage reaches the page. A sequence split across two
 * chunks is completed by the next chunk of the same stream.
 */

export interface AnsiStyle {
  fg?: number;
  bg?: number;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
}

export interface Segment {
  text: string;
  style: AnsiStyle;
}

// CSI (ESC [ … final byte), OSC (ESC ] … BEL or ESC \), and two-byte escapes.
// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape sequences are what this reads
const ESCAPE = /\u001b(?:\[([0-9;?]*)([\u0040-\u007e])|\][^\u0007\u001b]*(?:\u0007|\u001b\\)|[\u0040-\u005f])/g;
/** An escape sequence that may continue in the next chunk. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape sequences are what this reads
const INCOMPLETE_TAIL = /\u001b(?:\[[0-9;?]*|\][^\u0007\u001b]*|)$/;

export class AnsiParser {
  private style: AnsiStyle = {};
  private carry = "";

  /** The segments of the next chunk of this stream. */
  push(chunk: string): Segment[] {
    let text = this.carry + chunk;
    this.carry = "";
    const tail = INCOMPLETE_TAIL.exec(text);
    if (tail) {
      this.carry = tail[0];
      text = text.slice(0, tail.index);
    }
    const segments: Segment[] = [];
    let last = 0;
    const emit = (plain: string) => {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: other control characters are dropped, not shown
      const clean = plain.replace(/\r(?!\n)/g, "").replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, "");
      if (clean) segments.push({ text: clean, style: { ...this.style } });
    };
    for (const match of text.matchAll(ESCAPE)) {
      emit(text.slice(last, match.index));
      last = match.index + match[0].length;
      if (match[2] === "m") this.apply(match[1] ?? "");
    }
    emit(text.slice(last));
    return segments;
  }

  private apply(params: string): void {
    const codes = params === "" ? [0] : params.split(";").map((p) => Number(p) || 0);
    for (let i = 0; i < codes.length; i++) {
      const code = codes[i]!;
      if (code === 0) this.style = {};
      else if (code === 1) this.style.bold = true;
      else if (code === 2) this.style.dim = true;
      else if (code === 3) this.style.italic = true;
      else if (code === 4) this.style.underline = true;
      else if (code === 22) this.style = { ...this.style, bold: false, dim: false };
      else if (code === 23) this.style.italic = false;
      else if (code === 24) this.style.underline = false;
      else if (code >= 30 && code <= 37) this.style.fg = code - 30;
      else if (code >= 90 && code <= 97) this.style.fg = code - 90 + 8;
      else if (code === 39) delete this.style.fg;
      else if (code >= 40 && code <= 47) this.style.bg = code - 40;
      else if (code >= 100 && code <= 107) this.style.bg = code - 100 + 8;
      else if (code === 49) delete this.style.bg;
      // 256-colour and true-colour forms: skip their arguments (not rendered).
      else if (code === 38 || code === 48) i += codes[i + 1] === 5 ? 2 : codes[i + 1] === 2 ? 4 : 0;
    }
  }
}

/** The classes of a segment's style (runs.css). */
export function ansiClasses(style: AnsiStyle): string {
  const classes: string[] = [];
  if (style.fg !== undefined) classes.push(`ansi-fg-${style.fg}`);
  if (style.bg !== undefined) classes.push(`ansi-bg-${style.bg}`);
  if (style.bold) classes.push("ansi-bold");
  if (style.dim) classes.push("ansi-dim");
  if (style.italic) classes.push("ansi-italic");
  if (style.underline) classes.push("ansi-underline");
  return classes.join(" ");
}
