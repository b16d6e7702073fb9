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
 *
 * The one parser: the launcher runs templates with it, and the API refuses an
 * agent's launch_command it cannot parse when it is saved (400, with where).
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

/** Stable codes of what can be wrong with a template, for messages in any language. */
export type TemplateProblem =
  | "empty"
  | "unterminated_single_quote"
  | "unterminated_double_quote"
  | "trailing_backslash"
  | "unknown_placeholder"
  | "unterminated_group"
  | "program_is_placeholder"
  | "program_is_optional"
  | "redirect_in_group"
  | "redirect_twice"
  | "redirect_target";

export class TemplateError extends Error {
  constructor(
    readonly problem: TemplateProblem,
    /** What the problem is, in words, without the position. */
    readonly detail: string,
    /** 1-based character of the template where the problem is (undefined for an empty template). */
    readonly position?: number,
  ) {
    super(position === undefined ? detail : `${detail} at character ${position}`);
    this.name = "TemplateError";
  }
}

const PLACEHOLDER_RE = /\{([a-z_]+)\}/g;

/** A run of word text, with the template index each of its characters came from. */
interface Chars {
  text: string;
  at: number[];
}

function piecesOf(chars: Chars, quoted: boolean): Piece[] {
  // Inside single quotes nothing is special, placeholders included: that is
  // how a template passes a literal `{prompt}`.
  if (quoted) return [{ text: chars.text }];
  const pieces: Piece[] = [];
  let last = 0;
  for (const match of chars.text.matchAll(PLACEHOLDER_RE)) {
    const name = match[1] as string;
    if (!(PLACEHOLDERS as readonly string[]).includes(name)) {
      throw new TemplateError(
        "unknown_placeholder",
        `unknown placeholder {${name}} (known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(" ")})`,
        (chars.at[match.index] ?? 0) + 1,
      );
    }
    if (match.index > last) pieces.push({ text: chars.text.slice(last, match.index) });
    pieces.push({ placeholder: name as Placeholder });
    last = match.index + match[0].length;
  }
  if (last < chars.text.length) pieces.push({ text: chars.text.slice(last) });
  return pieces;
}

/** Splits a template into words (shell quoting rules, no expansion of any kind). */
export function parseTemplate(template: string): Word[] {
  const words: Word[] = [];
  let pieces: Piece[] = [];
  let inWord = false;
  let buffer: Chars = { text: "", at: [] };
  let group: number | undefined;
  let groupOpenedAt = 0;
  let groups = 0;
  const push = (ch: string, at: number) => {
    buffer.text += ch;
    buffer.at.push(at);
  };
  const flush = (quoted: boolean) => {
    if (buffer.text) pieces.push(...piecesOf(buffer, quoted));
    buffer = { text: "", at: [] };
  };
  // Where each word starts in the template, for the position of a problem.
  const wordAt: number[] = [];
  let wordStart = 0;
  // Indexes (into words) of unquoted, standalone `<` words.
  const redirects: number[] = [];
  let quotedWord = false;
  const endWord = () => {
    flush(false);
    if (!inWord) return;
    const merged = mergeText(pieces);
    const only = merged[0];
    if (!quotedWord && merged.length === 1 && only && "text" in only && only.text === "<") {
      if (group !== undefined) throw new TemplateError("redirect_in_group", "`< {prompt_file}` cannot be inside an optional group", wordStart + 1);
      redirects.push(words.length);
    }
    words.push({ pieces: merged, ...(group !== undefined ? { group } : {}) });
    wordAt.push(wordStart);
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
      groupOpenedAt = i;
      continue;
    }
    if (ch === "]" && group !== undefined && (i + 1 === template.length || /\s/.test(template[i + 1] as string))) {
      // `]` closing a word ends the group.
      endWord();
      group = undefined;
      continue;
    }
    if (!inWord) wordStart = i;
    inWord = true;
    if (ch === "'" || ch === '"' || ch === "\\") quotedWord = true;
    if (ch === "'") {
      flush(false);
      const end = template.indexOf("'", i + 1);
      if (end < 0) throw new TemplateError("unterminated_single_quote", "unterminated single quote", i + 1);
      for (let j = i + 1; j < end; j++) push(template[j] as string, j);
      flush(true);
      i = end;
    } else if (ch === '"') {
      flush(false);
      let j = i + 1;
      for (; j < template.length && template[j] !== '"'; j++) {
        if (template[j] === "\\" && j + 1 < template.length && /["\\$`]/.test(template[j + 1] as string)) j++;
        push(template[j] as string, j);
      }
      if (j >= template.length) throw new TemplateError("unterminated_double_quote", "unterminated double quote", i + 1);
      flush(false);
      i = j;
    } else if (ch === "\\") {
      if (i + 1 >= template.length) throw new TemplateError("trailing_backslash", "trailing backslash", i + 1);
      i++;
      push(template[i] as string, i);
    } else {
      push(ch, i);
    }
  }
  if (group !== undefined) {
    throw new TemplateError("unterminated_group", "unterminated optional group: `[` without a matching `]`", groupOpenedAt + 1);
  }
  endWord();
  markStdinRedirect(words, redirects, wordAt);
  if (words.length === 0) throw new TemplateError("empty", "empty command");
  const programAt = (wordAt[0] ?? 0) + 1;
  if (words[0]!.pieces.some((p) => "placeholder" in p)) {
    throw new TemplateError("program_is_placeholder", "the program (first word) cannot be a placeholder", programAt);
  }
  if (words[0]!.group !== undefined) throw new TemplateError("program_is_optional", "the program (first word) cannot be optional", programAt);
  return words;
}

/** Why a template cannot be run, or undefined when it parses. */
export function launchCommandProblem(template: string): TemplateError | undefined {
  try {
    parseTemplate(template);
    return undefined;
  } catch (error) {
    if (error instanceof TemplateError) return error;
    throw error;
  }
}

/** Turns `<` `{prompt_file}` into one stdin word; anything else after `<` is refused. */
function markStdinRedirect(words: Word[], redirects: number[], wordAt: number[]): void {
  if (redirects.length > 1) throw new TemplateError("redirect_twice", "only one `< {prompt_file}` is allowed", (wordAt[redirects[1]!] ?? 0) + 1);
  const at = redirects[0];
  if (at === undefined) return;
  const target = words[at + 1];
  const only = target?.pieces.length === 1 ? target.pieces[0] : undefined;
  if (!target || !only || !("placeholder" in only) || only.placeholder !== "prompt_file") {
    throw new TemplateError(
      "redirect_target",
      "`<` must be followed by {prompt_file}: the agent's stdin can only be its prompt file",
      (wordAt[at] ?? 0) + 1,
    );
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
