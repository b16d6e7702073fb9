import { isAbsolute, resolve } from "node:path";
import { z } from "zod";

const bool = z
  .enum(["true", "false", "1", "0", ""])
  .default("false")
  .transform((v) => v === "true" || v === "1");

const ZEnv = z.object({
  HOST: z.string().default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3847),
  DATABASE_URL: z.string().optional().transform((v) => v || undefined),
  OPS_DATA_DIR: z.string().default("./.ops-data"),
  OPS_SERVICE_TOKEN: z
    .string()
    .optional()
    .transform((v) => v || undefined)
    .refine((v) => v === undefined || v.length >= 24, { error: "must be at least 24 characters" }),
  OPS_ADMIN_USER: z.string().optional().transform((v) => v || undefined),
  OPS_ADMIN_PASSWORD: z
    .string()
    .optional()
    .transform((v) => v || undefined)
    .refine((v) => v === undefined || v.length >= 12, { error: "must be at least 12 characters" }),
  TRUST_PROXY: bool,
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
