import { existsSync, readFileSync, statSync } from "node:fs";
import { SERVICE_TOKEN_HEADER, WORKER_TOKEN_HEADER, WORKER_TOKEN_PREFIX } from "@ops/contract";

// The launcher's own credential for the API: where it is read from, and in
// what order. env.ts calls this with the environment it validates.

/** The systemd credential name (LoadCredential=ops-worker-token:/etc/ops-dispatch/worker-token). */
export const WORKER_TOKEN_CREDENTIAL = "ops-worker-token";

/** Everything that names or carries the launcher's own credential: never for agents, dropped from process.env after start. */
export const CREDENTIAL_ENV_KEYS = ["OPS_WORKER_TOKEN", "OPS_WORKER_TOKEN_FILE", "OPS_SERVICE_TOKEN", "CREDENTIALS_DIRECTORY"] as const;

const NO_CREDENTIAL_ERROR =
  "no credential for the API: set OPS_WORKER_TOKEN_FILE to a file only the launcher's user can read (e.g. /etc/ops-dispatch/worker-token, mode 0600) holding this launcher's worker token; issue one with POST /api/workers/tokens or Ajustes → Workers. (systemd: LoadCredential=ops-worker-token:/etc/ops-dispatch/worker-token; OPS_SERVICE_TOKEN still works but is an instance admin credential)";

/** The one credential the launcher sends, and where it came from (never the token in words). */
export interface LauncherCredential {
  kind: "worker_token" | "service";
  header: string;
  token: string;
  /** Where it was read, for the log and the doctor: "systemd credential ops-worker-token", "OPS_WORKER_TOKEN_FILE /etc/…", "OPS_WORKER_TOKEN", "OPS_SERVICE_TOKEN". */
  source: string;
  /** The file it was read from, when it came from one (the doctor checks its mode and owner). */
  file?: string;
  /** Other credential variables that are set too and ignored. */
  ignored: string[];
}

/**
 * Picks the launcher's credential, in this order: the systemd credential
 * ($CREDENTIALS_DIRECTORY/ops-worker-token), OPS_WORKER_TOKEN_FILE,
 * OPS_WORKER_TOKEN, then OPS_SERVICE_TOKEN. Files first: a file only the
 * launcher's user reads stays out of /proc/<pid>/environ, which the process
 * keeps for its whole life even after the variable is unset. Exactly one is
 * used; the others are named as ignored. Problems are returned in words that
 * never quote the token.
 */
export function resolveCredential(source: NodeJS.ProcessEnv): { credential?: LauncherCredential; problems: string[] } {
  const problems: string[] = [];
  const candidates: { name: string; read: () => { token: string; source: string; file?: string } | undefined }[] = [
    {
      name: "CREDENTIALS_DIRECTORY",
      read: () => {
        if (!source.CREDENTIALS_DIRECTORY) return undefined;
        const file = `${source.CREDENTIALS_DIRECTORY.replace(/\/$/, "")}/${WORKER_TOKEN_CREDENTIAL}`;
        // A unit may load other credentials only: then this one is simply not offered.
        if (!existsSync(file)) return undefined;
        return { token: readTokenFile(file, `systemd credential ${WORKER_TOKEN_CREDENTIAL}`, problems), source: `systemd credential ${WORKER_TOKEN_CREDENTIAL}`, file };
      },
    },
    {
      name: "OPS_WORKER_TOKEN_FILE",
      read: () => {
        const file = source.OPS_WORKER_TOKEN_FILE;
        if (!file) return undefined;
        return { token: readTokenFile(file, "OPS_WORKER_TOKEN_FILE", problems), source: `OPS_WORKER_TOKEN_FILE ${file}`, file };
      },
    },
    { name: "OPS_WORKER_TOKEN", read: () => (source.OPS_WORKER_TOKEN ? { token: source.OPS_WORKER_TOKEN.trim(), source: "OPS_WORKER_TOKEN" } : undefined) },
    { name: "OPS_SERVICE_TOKEN", read: () => (source.OPS_SERVICE_TOKEN ? { token: source.OPS_SERVICE_TOKEN, source: "OPS_SERVICE_TOKEN" } : undefined) },
  ];
  let chosen: { name: string; token: string; source: string; file?: string } | undefined;
  const ignored: string[] = [];
  for (const candidate of candidates) {
    if (chosen) {
      if (candidate.name === "CREDENTIALS_DIRECTORY" || !source[candidate.name]) continue;
      // The env file may name the same file the unit loads as a credential: only a second secret is worth a word.
      if (candidate.name !== "OPS_WORKER_TOKEN_FILE") ignored.push(candidate.name);
      continue;
    }
    const found = candidate.read();
    if (found) chosen = { name: candidate.name, ...found };
  }
  if (problems.length > 0) return { problems };
  if (!chosen) return { problems: [NO_CREDENTIAL_ERROR] };
  const worker = chosen.name !== "OPS_SERVICE_TOKEN";
  if (worker && !chosen.token.startsWith(WORKER_TOKEN_PREFIX)) {
    return {
      problems: [
        `${chosen.name === "CREDENTIALS_DIRECTORY" ? `systemd credential ${WORKER_TOKEN_CREDENTIAL}` : chosen.name}: is not a worker token (those start with ${WORKER_TOKEN_PREFIX}; issue one with POST /api/workers/tokens or Ajustes → Workers); the service token goes in OPS_SERVICE_TOKEN`,
      ],
    };
  }
  return {
    credential: {
      kind: worker ? "worker_token" : "service",
      header: worker ? WORKER_TOKEN_HEADER : SERVICE_TOKEN_HEADER,
      token: chosen.token,
      source: chosen.source,
      ...(chosen.file ? { file: chosen.file } : {}),
      ignored,
    },
    problems: [],
  };
}

/** A token file's content, trimmed; an empty string with a problem when it cannot be used. */
function readTokenFile(file: string, name: string, problems: string[]): string {
  try {
    if (!statSync(file).isFile()) {
      problems.push(`${name}: ${file} is not a file`);
      return "";
    }
    const token = readFileSync(file, "utf8").trim();
    if (!token) problems.push(`${name}: ${file} is empty; write the worker token into it (POST /api/workers/tokens or Ajustes → Workers)`);
    else if (/\s/.test(token)) problems.push(`${name}: ${file} must hold the token alone, on one line`);
    return token;
  } catch (error) {
    problems.push(`${name}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? "error"}); it must be readable by the launcher's user only`);
    return "";
  }
}

