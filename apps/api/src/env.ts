import { isIP } from "node:net";
import { isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { credentialWeakness } from "./auth/credential-strength.ts";

/** proxy-addr's names for address ranges, accepted by Fastify's trustProxy like addresses. */
const PROXY_RANGE_NAMES = new Set(["loopback", "linklocal", "uniquelocal"]);

function proxyAddressProblem(entry: string): string | undefined {
  if (PROXY_RANGE_NAMES.has(entry)) return undefined;
  const [address = "", bits, extra] = entry.split("/");
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return `"${entry}" is not an IP address or CIDR range`;
  if (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128))) {
    return `"${entry}" has an invalid prefix length`;
  }
  return undefined;
}

/**
 * What Fastify's `trustProxy` takes: `false`; a hop count (`1`: the nearest
 * proxy only); the proxies' addresses or CIDR ranges (comma-separated, or
 * loopback/linklocal/uniquelocal); or `true`, which trusts every hop, so any
 * client-sent X-Forwarded-For prefix becomes the client's address (health and
 * the start log warn about it). With a count or addresses, the client is the
 * first untrusted hop from the right.
 */
export type TrustProxy = boolean | number | string[];

const trustProxy = z
  .string()
  .default("false")
  .transform((raw, ctx): TrustProxy => {
    const v = raw.trim();
    if (v === "" || v === "false") return false;
    if (v === "true") return true;
    if (/^\d+$/.test(v)) {
      const hops = Number(v);
      if (hops > 32) ctx.addIssue({ code: "custom", message: "a hop count must be 0 to 32" });
      return hops === 0 ? false : hops;
    }
    const entries = v.split(",").map((e) => e.trim()).filter(Boolean);
    for (const entry of entries) {
      const problem = proxyAddressProblem(entry);
      if (problem) {
        ctx.addIssue({ code: "custom", message: `${problem}; use false, a hop count (1 = the nearest proxy), or the proxies' addresses/CIDRs, e.g. 127.0.0.1` });
      }
    }
    return entries;
  });

/** Refuses placeholders, common passwords and low-variety values, naming the variable and the fix. */
const strong = (kind: "token" | "password") => (v: string | undefined, ctx: z.RefinementCtx) => {
  const weakness = v === undefined ? undefined : credentialWeakness(v, kind);
  if (weakness) ctx.addIssue({ code: "custom", message: weakness });
};

const ZEnv = z.object({
  HOST: z.string().default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3847),
  DATABASE_URL: z.string().optional().transform((v) => v || undefined),
  OPS_DATA_DIR: z.string().default("./.ops-data"),
  OPS_SERVICE_TOKEN: z
    .string()
    .optional()
    .transform((v) => v || undefined)
    .refine((v) => v === undefined || v.length >= 24, { error: "must be at least 24 characters (e.g. openssl rand -hex 32)" })
    .superRefine(strong("token")),
  OPS_ADMIN_USER: z.string().optional().transform((v) => v || undefined),
  OPS_ADMIN_PASSWORD: z
    .string()
    .optional()
    .transform((v) => v || undefined)
    .refine((v) => v === undefined || v.length >= 12, { error: "must be at least 12 characters" })
    .superRefine(strong("password")),
  TRUST_PROXY: trustProxy,
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  NODE_ENV: z.string().default("production"),
  OPS_WEB_DIST: z.string().optional(),
  /** Watchdog pass interval; dispatch/next also reconciles whenever its claim sees stale work. */
  OPS_WATCHDOG_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(15_000),
  /**
   * The dispatcher's tick: how often the instance asks, with one statement for
   * all its parked dispatch/next requests, whether work became claimable
   * without a NOTIFY (a missed notification, a cap freed, a workspace switched
   * on). Tests set it high to prove the NOTIFY wake-up alone answers a parked
   * launcher.
   */
  OPS_DISPATCH_REPOLL_MS: z.coerce.number().int().min(100).max(3_600_000).default(1000),
  /**
   * How often the instance writes the heartbeats that only say "still here",
   * all in one statement (dispatch/heartbeat.ts); 0 writes each one at once.
   */
  OPS_HEARTBEAT_FLUSH_MS: z.coerce.number().int().min(0).max(30_000).default(1000),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(20),
});

export type Env = z.infer<typeof ZEnv>;

/**
 * What a valid configuration still does badly, said at start (the journal has it from the first
 * run; health repeats it as TRUST_PROXY_ALL_HOPS).
 */
export function startupWarnings(env: Env): string[] {
  const warnings: string[] = [];
  if (env.TRUST_PROXY === true) {
    warnings.push(
      "TRUST_PROXY=true trusts every X-Forwarded-For hop: clients can choose their recorded address; set TRUST_PROXY=127.0.0.1 (nginx on this host) or the proxy's address/CIDR, or a hop count (1)",
    );
  }
  return warnings;
}

/** Reads and validates the API's environment; the only place that reads process.env. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const result = ZEnv.safeParse(source);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const env = result.data;
  if (Boolean(env.OPS_ADMIN_USER) !== Boolean(env.OPS_ADMIN_PASSWORD)) {
    throw new Error("Invalid configuration:\n  OPS_ADMIN_USER and OPS_ADMIN_PASSWORD must be set together");
  }
  // pnpm runs scripts inside the package folder; relative paths mean the folder
  // the operator ran the command from.
  const base = source.INIT_CWD ?? process.cwd();
  if (!env.OPS_DATA_DIR.startsWith("memory://") && !isAbsolute(env.OPS_DATA_DIR)) {
    env.OPS_DATA_DIR = resolve(base, env.OPS_DATA_DIR);
  }
  return env;
}
