import { type Db, type DbOrTx, readSetting, writeSetting } from "@ops/db";
import type { Env } from "../env.ts";
import { generateToken, hashToken, tokenMatchesHash } from "./crypto.ts";
import { anyInstanceAdmin, upsertAdmin } from "./login.ts";
import { ensureAuditNameKey } from "./signin-target.ts";

/** Internal marker: the admin or token was generated at first start and should be rotated. */
const GENERATED_DEFAULTS_KEY = "_generated_defaults";

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
    await upsertAdmin(db, env.OPS_ADMIN_USER, env.OPS_ADMIN_PASSWORD);
  } else if (!(await anyInstanceAdmin(db))) {
    generated.adminUser = "admin";
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
