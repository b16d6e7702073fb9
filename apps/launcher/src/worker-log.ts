import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { REDACT_CENSOR, REDACT_PATHS } from "@ops/contract";
import pino, { type Logger } from "pino";

export type { Logger } from "pino";

/**
 * Shorter values are not scrubbed from lines: they would censor ordinary words.
 * The API refuses service tokens under 24 characters and mints task tokens far
 * longer than this.
 */
const MIN_HIDDEN_LENGTH = 16;
/** Task tokens are revoked when their run ends; the latest ones are enough to keep hidden. */
const MAX_TASK_SECRETS = 256;

export interface WorkerLog {
  logger: Logger;
  /** From now on, censor this value wherever it appears in a line (a task token handed to an agent). */
  hide(value: string): void;
  /** Reopen the file (after logrotate moved it; SIGHUP). */
  reopen(): void;
  close(): void;
}

export interface WorkerLogOptions {
  /** Values never to be written, wherever they appear: the service token. */
  secrets?: string[];
  /** Where every line is echoed: stderr, i.e. the journal under systemd. */
  echo?: { write(line: string): unknown };
}

/** Open (and create) the file now, so a launcher never runs without its log and the error names the variable. */
function checkWritable(path: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    closeSync(openSync(path, "a", 0o640));
  } catch (error) {
    throw new Error(`Invalid configuration:\n  OPS_LAUNCHER_LOG: cannot write ${path} (${(error as Error).message}); set it to a writable file, or "-" for stderr only`);
  }
}

/** A value as it appears in a line: pino writes JSON, which escapes quotes, backslashes and control characters. */
const spellings = (value: string) => [...new Set([value, JSON.stringify(value).slice(1, -1)])];

/**
 * The worker log (OPS_LAUNCHER_LOG): pino JSON lines, one per event, with the
 * API's redaction paths, to the file and echoed to stderr ("-": stderr only).
 * Known secret values are censored inside any field or message as well, so a
 * token quoted in an error message never reaches the file or the journal.
 */
export function openWorkerLog(path: string, options: WorkerLogOptions = {}): WorkerLog {
  const echo = options.echo ?? process.stderr;
  let file: ReturnType<typeof pino.destination> | undefined;
  if (path !== "-") {
    checkWritable(path);
    // Synchronous writes: a line logged just before exit (a failed start) is on disk.
    file = pino.destination({ dest: path, sync: true, mkdir: true, append: true, maxLength: 1024 * 1024 });
    // A full disk must not stop the launcher: stderr still carries the line.
    file.on("error", () => {});
  }

  const fixed = (options.secrets ?? []).filter((s) => s.length >= MIN_HIDDEN_LENGTH).flatMap(spellings);
  const taskSecrets = new Set<string>();
  const scrub = (line: string) => {
    for (const secret of fixed) line = line.replaceAll(secret, REDACT_CENSOR);
    for (const secret of taskSecrets) line = line.replaceAll(secret, REDACT_CENSOR);
    return line;
  };

  const logger = pino(
    {
      level: "info",
      // One launcher per log file: pid and hostname on every line would be noise (and clash with an agent's pid).
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: REDACT_CENSOR },
      hooks: { streamWrite: scrub },
    },
    {
      write(line: string) {
        echo.write(line);
        file?.write(line);
      },
    },
  );

  return {
    logger,
    hide(value) {
      if (value.length < MIN_HIDDEN_LENGTH) return;
      for (const spelling of spellings(value)) {
        taskSecrets.delete(spelling);
        taskSecrets.add(spelling);
      }
      for (const oldest of taskSecrets) {
        if (taskSecrets.size <= MAX_TASK_SECRETS) break;
        taskSecrets.delete(oldest);
      }
    },
    reopen() {
      try {
        file?.reopen();
      } catch (error) {
        // Folder gone or not writable any more: keep writing where we can and say why on stderr.
        echo.write(`${JSON.stringify({ level: "error", time: new Date().toISOString(), msg: `cannot reopen the worker log ${path}: ${(error as Error).message}` })}\n`);
      }
    },
    close() {
      file?.end();
    },
  };
}
