import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** A Unix account, as getent or /etc/passwd has it. */
export interface UnixUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

const parsePasswdLine = (line: string): UnixUser | undefined => {
  const f = line.split(":");
  if (f.length < 7) return undefined;
  return { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]!, shell: f[6]!.trim() };
};

/** `getent passwd NAME` (so NSS users count), else /etc/passwd. */
export function lookupUnixUser(name: string): UnixUser | undefined {
  try {
    return parsePasswdLine(execFileSync("getent", ["passwd", name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).split("\n")[0]!);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") return undefined;
  }
  try {
    const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith(`${name}:`));
    return line ? parsePasswdLine(line) : undefined;
  } catch {
    return undefined;
  }
}

