import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";

export type Level = "info" | "warn" | "error";
export interface WorkerLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** Reopen the file (after logrotate moved it; SIGHUP). */
  reopen(): void;
  close(): void;
}

/**
 * The worker log (OPS_LAUNCHER_LOG): one line per event, to the file and to
 * stderr (the journal, under systemd). Opening it fails at start, naming the
 * variable, so a launcher never runs without its log.
 */
export function openWorkerLog(path: string, echo: (line: string) => void = (l) => process.stderr.write(l)): WorkerLog {
  let fd: number | undefined;
  const open = () => {
    if (path === "-") return;
    try {
      mkdirSync(dirname(path), { recursive: true });
      fd = openSync(path, "a", 0o640);
    } catch (error) {
      throw new Error(`Invalid configuration:\n  OPS_LAUNCHER_LOG: cannot write ${path} (${(error as Error).message}); set it to a writable file, or "-" for stderr only`);
    }
  };
  open();
  const write = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    const line = `${new Date().toISOString()} [${level}] ${msg}${fields && Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : ""}\n`;
    echo(line);
    if (fd !== undefined) {
      try {
        writeSync(fd, line);
      } catch {
        // A full disk must not stop the launcher; stderr still has the line.
      }
    }
  };
  return {
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    reopen() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
      try {
        open();
      } catch (error) {
        echo(`${(error as Error).message}\n`);
      }
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
