import { type Db, type DbOrTx, readSetting, writeSetting } from "@ops/db";
import type { Env } from "../env.ts";
import { generateToken, hashPassword, hashToken, tokenMatchesHash, verifyPassword } from "./crypto.ts";
import { anyInstanceAdmin, upsertAdmin } from "./login.ts";
import { ensureAuditNameKey } from "./signin-target.ts";

/** Internal marker: the admin or token was generated at first start and should be rotated. */
const GENERATED_DEFAULTS_KEY = "_generated_defaults";
/** Internal marker: the OPS_ADMIN_USER/OPS_ADMIN_PASSWORD last applied (user and a scrypt hash of the password). */
const ADMIN_ENV_APPLIED_KEY = "_admin_env_applied";
/** The username of the admin generated at first start. */
export const GENERATED_ADMIN_USER = "admin";

type GeneratedCredential = "service_token" | "admin";

export interface BootstrapResult {
  /** Credentials generated on this start; printed once by main and never stored in clear. */
  generated: { adminUser?: string; adminPassword?: string; serviceToken?: string };
}

/**
 * Applies OPS_SERVICE_TOKEN and OPS_ADMIN_USER/OPS_ADMIN_PASSWORD at start (a
 * restart with new values rotates them); with neither and nothing stored,
 * generates strong values.
 */
export async function bootstrapCredentials(db: Db, env: Env): Promise<BootstrapResult> {
  const generated: BootstrapResult["generated"] = {};
  await ensureAuditNameKey(db);
  const storedHash = await readSetting(db, "service_api_token");
  if (env.OPS_SERVICE_TOKEN) {
    if (!storedHash || !tokenMatchesHash(env.OPS_SERVICE_TOKEN, storedHash)) {
      await writeSetting(db, "service_api_token", hashToken(env.OPS_SERVICE_TOKEN), "env:OPS_SERVICE_TOKEN");
    }
  } else if (!storedHash) {
    generated.serviceToken = generateToken();
    await writeSetting(db, "service_api_token", hashToken(generated.serviceToken), "generated");
  }

  if (env.OPS_ADMIN_USER && env.OPS_ADMIN_PASSWORD) {
    await applyAdminFromEnv(db, env.OPS_ADMIN_USER, env.OPS_ADMIN_PASSWORD);
  } else if (!(await anyInstanceAdmin(db))) {
    generated.adminUser = GENERATED_ADMIN_USER;
    generated.adminPassword = generateToken(18);
    await upsertAdmin(db, generated.adminUser, generated.adminPassword);
  }

  const flags = new Set(await generatedCredentials(db));
  if (generated.serviceToken) flags.add("service_token");
  if (generated.adminPassword) flags.add("admin");
  if (env.OPS_SERVICE_TOKEN) flags.delete("service_token");
  if (env.OPS_ADMIN_PASSWORD) flags.delete("admin");
  await writeSetting(db, GENERATED_DEFAULTS_KEY, [...flags].join(","), "system");
  return { generated };
}

/** Generated credentials still in use (health asks to rotate them). */
export async function generatedCredentials(db: DbOrTx): Promise<GeneratedCredential[]> {
  const stored = await readSetting(db, GENERATED_DEFAULTS_KEY);
  return (stored?.split(",").filter(Boolean) ?? []) as GeneratedCredential[];
}

/** A token set through the API replaces a generated one: drop the rotation warning. */
export async function forgetGeneratedServiceToken(db: DbOrTx): Promise<void> {
  const flags = (await generatedCredentials(db)).filter((f) => f !== "service_token");
  await writeSetting(db, GENERATED_DEFAULTS_KEY, flags.join(","), "system");
}

/**
 * Applies OPS_ADMIN_USER/OPS_ADMIN_PASSWORD only when they differ from the
 * values applied before: a restart with new values rotates the admin, while a
 * restart with the same values keeps a password changed in the app since.
 */
async function applyAdminFromEnv(db: Db, username: string, password: string): Promise<void> {
  const applied = await readSetting(db, ADMIN_ENV_APPLIED_KEY);
  const separator = applied?.lastIndexOf(":") ?? -1;
  if (applied && applied.slice(0, separator) === username && (await verifyPassword(password, applied.slice(separator + 1)))) {
    return;
  }
  await upsertAdmin(db, username, password);
  await writeSetting(db, ADMIN_ENV_APPLIED_KEY, `${username}:${await hashPassword(password)}`, "system");
}

/** The generated admin's password was replaced by a chosen one: drop the rotation warning. */
export async function forgetGeneratedAdminPassword(db: DbOrTx, username: string): Promise<void> {
  if (username !== GENERATED_ADMIN_USER) return;
  const flags = await generatedCredentials(db);
  if (!flags.includes("admin")) return;
  await writeSetting(db, GENERATED_DEFAULTS_KEY, flags.filter((f) => f !== "admin").join(","), "system");
}
