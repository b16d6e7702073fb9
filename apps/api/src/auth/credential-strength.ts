// Start-time checks of the credentials an operator configures (OPS_SERVICE_TOKEN,
// OPS_ADMIN_PASSWORD) and that scripts/deploy-auth-hardening.sh repeats in bash:
// the deploy examples' placeholders, common passwords and low-variety strings are
// refused before they ever protect anything. Pure functions: env.ts and tests call them.

/**
 * Common passwords and the words an operator reaches for first, compared with
 * the value's letters only (case folded), so `Password123!` and `admin-admin`
 * count as what they are. Small on purpose: it names the guesses tried first.
 */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set([
  "password", "passwords", "passw", "pass", "passwd", "admin", "adminadmin", "administrator", "root", "toor",
  "changeme", "changemenow", "letmein", "welcome", "qwerty", "qwertyuiop", "asdfgh", "asdfghjkl", "zxcvbnm",
  "secret", "topsecret", "default", "token", "servicetoken", "apitoken", "opscenter", "ops", "dispatch",
  "opsdispatch", "iloveyou", "monkey", "dragon", "master", "login", "abc", "abcdef", "abcdefgh", "test",
  "testing", "guest", "user", "superuser", "trustno", "football", "baseball", "sunshine", "princess",
  "shadow", "starwars", "whatever", "freedom", "security", "example", "sample", "placeholder", "strongpassword",
  "strongpass", "strongtoken", "randomtoken", "mypassword", "yourpassword", "newpassword", "temp", "temporary",
]);

/** The shortest string whose repetition is `s` ("adminadmin" → "admin"). */
function repeatedUnit(s: string): string {
  for (let size = 1; size <= s.length / 2; size++) {
    if (s.length % size === 0 && s.slice(0, size).repeat(s.length / size) === s) return s.slice(0, size);
  }
  return s;
}

/** The values deploy/env/ops-center.env.example ships (health looks for them among stored credentials). */
export const PLACEHOLDER_TOKEN = "CHANGE_ME_TO_A_RANDOM_TOKEN_OF_AT_LEAST_24_CHARS";
export const PLACEHOLDER_PASSWORD = "CHANGE_ME_TO_A_STRONG_PASSWORD";

export type CredentialKind = "token" | "password";

const MIN_DISTINCT: Record<CredentialKind, number> = { token: 10, password: 6 };

/**
 * Why `value` may not be used as a credential, as a phrase that follows the
 * variable's name ("OPS_SERVICE_TOKEN: is still …") and says what to do, or
 * undefined when it may.
 */
export function credentialWeakness(value: string, kind: CredentialKind): string | undefined {
  const fix =
    kind === "token"
      ? "set a random token, e.g. the output of `openssl rand -hex 32`"
      : "choose a long passphrase of your own (or `openssl rand -base64 18`)";
  if (/change[_-]?me/i.test(value)) {
    // Never the value itself: the message reaches logs.
    return `is still a CHANGE_ME placeholder (deploy/env/*.example); ${fix}`;
  }
  if (/^<.*>$/.test(value.trim())) return `is a <placeholder> copied from the docs; ${fix}`;
  const letters = value.toLowerCase().replace(/[^\p{L}]/gu, "");
  if (COMMON_PASSWORDS.has(repeatedUnit(letters)) || (kind === "password" && letters === "")) {
    return `is a common password or a variation of one; ${fix}`;
  }
  const distinct = new Set(value).size;
  if (distinct < MIN_DISTINCT[kind]) {
    return `uses only ${distinct} distinct characters (at least ${MIN_DISTINCT[kind]} needed); ${fix}`;
  }
  return undefined;
}
