/**
 * Launch commands are argv templates, never shell strings. A template is split
 * into words once, the shell's way (single quotes, double quotes, backslash),
 * and placeholders are then filled inside each word. A placeholder's value is
 * never split again, so whatever a task's text contains ends up inside one
 * argv element and nothing in it can start a command.
 *
 * Placeholders: {prompt} {prompt_file} {task_id} {attempt} {model} {workdir}.
 * A group of words written between `[` and `]` (e.g. `[--model {model}]`) is
 * kept only when every placeholder in it has a non-empty value, so a task
 * without a model does not pass `--model ""`.
 *
 * `< {prompt_file}` gives the agent the prompt on its stdin instead of in its
 * argv, where any local user could read it with `ps`. It is the only
 * redirection: the launcher opens the file itself, no shell is involved.
 */

export const PLACEHOLDERS = ["prompt", "prompt_file", "task_id", "attempt", "model", "workdir"] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
export type TemplateValues = Record<Placeholder, string>;

/** One word of a template: literal text and placeholders, in order. */
export type Piece = { text: string } | { placeholder: Placeholder };
export interface Word {
  pieces: Piece[];
  /** Index of the optional `[...]` group the word belongs to, if any. */
  group?: number;
  /** The word after `<`: the file the agent reads as stdin, not an argument. */
  stdin?: true;
}

export class TemplateError extends Error {}

const PLACEHOLDER_RE = /\{([a-z_]+)\}/g;

function piecesOf(text: string, quoted: boolean): Piece[] {
  // Inside single quotes nothing is special, placeholders included: that is
  // how a template passes a literal `{prompt}`.
  if (quoted) return [{ text }];
  const pieces: Piece[] = [];
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER_RE)) {
    const name = match[1] as string;
    if (!(PLACEHOLDERS as readonly string[]).includes(name)) {
      throw new TemplateError(`unknown placeholder {${name}} (known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(" ")})`);
    }
    if (match.index > last) pieces.push({ text: text.slice(last, match.index) });
    pieces.push({ placeholder: name as Placeholder });
    last = match.index + match[0].length;
  }
  if (last < text.length) pieces.push({ text: text.slice(last) });
  return pieces;
}

/** Splits a template into words (shell quoting rules, no expansion of any kind). */
export function parseTemplate(template: string): Word[] {
  const words: Word[] = [];
  let pieces: Piece[] = [];
  let inWord = false;
  let buffer = "";
  let group: number | undefined;
  let groups = 0;
  const flush = (quoted: boolean) => {
    if (buffer) pieces.push(...piecesOf(buffer, quoted));
    buffer = "";
  };
  // Indexes (into words) of unquoted, standalone `<` words.
  const redirects: number[] = [];
  let quotedWord = false;
  const endWord = () => {
    flush(false);
    if (!inWord) return;
    const merged = mergeText(pieces);
    const only = merged[0];
    if (!quotedWord && merged.length === 1 && only && "text" in only && only.text === "<") {
      if (group !== undefined) throw new TemplateError("`< {prompt_file}` cannot be inside an optional group");
      redirects.push(words.length);
    }
    words.push({ pieces: merged, ...(group !== undefined ? { group } : {}) });
    pieces = [];
    inWord = false;
    quotedWord = false;
  };
  for (let i = 0; i < template.length; i++) {
    const ch = template[i] as string;
    if (/\s/.test(ch)) {
      endWord();
      continue;
    }
    if (!inWord && ch === "[" && group === undefined) {
      // `[` opening a word starts an optional group (a quoted "[" does not).
      group = groups++;
      continue;
    }
    if (ch === "]" && group !== undefined && (i + 1 === template.length || /\s/.test(template[i + 1] as string))) {
      // `]` closing a word ends the group.
      endWord();
      group = undefined;
      continue;
    }
    inWord = true;
    if (ch === "'" || ch === '"' || ch === "\\") quotedWord = true;
    if (ch === "'") {
      flush(false);
      const end = template.indexOf("'", i + 1);
      if (end < 0) throw new TemplateError("unterminated single quote");
      buffer = template.slice(i + 1, end);
      flush(true);
      i = end;
    } else if (ch === '"') {
      flush(false);
      let j = i + 1;
      for (; j < template.length && template[j] !== '"'; j++) {
        if (template[j] === "\\" && j + 1 < template.length && /["\\$`]/.test(template[j + 1] as string)) j++;
        buffer += template[j];
      }
      if (j >= template.length) throw new TemplateError("unterminated double quote");
      flush(false);
      i = j;
    } else if (ch === "\\") {
      if (i + 1 >= template.length) throw new TemplateError("trailing backslash");
      buffer += template[++i];
    } else {
      buffer += ch;
    }
  }
  if (group !== undefined) {
    throw new TemplateError("unterminated optional group: `[` without a matching `]`");
  }
  endWord();
  markStdinRedirect(words, redirects);
  if (words.length === 0) throw new TemplateError("empty command");
  if (words[0]!.pieces.some((p) => "placeholder" in p)) {
    throw new TemplateError("the program (first word) cannot be a placeholder");
  }
  if (words[0]!.group !== undefined) throw new TemplateError("the program (first word) cannot be optional");
  return words;
}

/** Turns `<` `{prompt_file}` into one stdin word; anything else after `<` is refused. */
function markStdinRedirect(words: Word[], redirects: number[]): void {
  if (redirects.length > 1) throw new TemplateError("only one `< {prompt_file}` is allowed");
  const at = redirects[0];
  if (at === undefined) return;
  const target = words[at + 1];
  const only = target?.pieces.length === 1 ? target.pieces[0] : undefined;
  if (!target || !only || !("placeholder" in only) || only.placeholder !== "prompt_file") {
    throw new TemplateError("`<` must be followed by {prompt_file}: the agent's stdin can only be its prompt file");
  }
  words.splice(at, 2, { pieces: target.pieces, stdin: true });
}

function mergeText(pieces: Piece[]): Piece[] {
  const out: Piece[] = [];
  for (const piece of pieces) {
    const prev = out[out.length - 1];
    if (prev && "text" in prev && "text" in piece) prev.text += piece.text;
    else out.push({ ...piece });
  }
  // A word made only of quotes ('' or "") has no pieces: it expands to an empty argument.
  return out;
}

/** Fills the placeholders: one word in, one argv element out (or none, for a dropped optional group or the stdin word). */
export function expandTemplate(words: Word[], values: TemplateValues): string[] {
  const droppedGroups = new Set<number>();
  for (const word of words) {
    if (word.group === undefined) continue;
    if (word.pieces.some((p) => "placeholder" in p && values[p.placeholder] === "")) droppedGroups.add(word.group);
  }
  return words
    .filter((w) => !w.stdin && (w.group === undefined || !droppedGroups.has(w.group)))
    .map((w) => w.pieces.map((p) => ("text" in p ? p.text : values[p.placeholder])).join(""));
}

/** Whether the template gives the agent its prompt file as stdin (`< {prompt_file}`). */
export function readsPromptFromStdin(words: Word[]): boolean {
  return words.some((w) => w.stdin === true);
}

/** The program a template runs, as written (a bare name looked up on PATH, or a path). */
export function programOf(words: Word[]): string {
  return words[0]!.pieces.map((p) => ("text" in p ? p.text : "")).join("");
}
