#!/usr/bin/env node
// The agent's process-group leader. The launcher starts this detached; it
// starts the agent CLI in the same group and, when the agent ends, writes its
// exit code and signal to the exit file. That record outlives the launcher,
// so a restarted launcher can report runs that ended while it was down.
//
// Usage: node agent-wrapper.mjs [--as=<uid>:<gid>] <exit-file> <program> [args...]
// With --as the agent runs as that user and group (OPS_AGENT_USER): the
// wrapper stays the launcher's, so the exit record is written in the
// launcher's private log folder, where the agent can neither read nor forge
// it. Node drops the supplementary groups when it switches user: the agent
// has its primary group only.
// Plain JavaScript on purpose: it must start fast and need nothing but node.
import { spawn } from "node:child_process";
import { renameSync, writeFileSync } from "node:fs";

const rest = process.argv.slice(2);
const as = /^--as=(\d+):(\d+)$/.exec(rest[0] ?? "");
if (as) rest.shift();
const [exitFile, program, ...args] = rest;
const startedAt = Date.now();

function record(result) {
  const body = JSON.stringify({ ...result, started_at: startedAt, ended_at: Date.now(), wrapper_pid: process.pid });
  try {
    writeFileSync(`${exitFile}.tmp`, body);
    renameSync(`${exitFile}.tmp`, exitFile);
  } catch (error) {
    // Disk full or folder gone: the launcher sees a dead group without a record and says so.
    process.stderr.write(`[ops-launcher] could not write exit record ${exitFile}: ${error.message}\n`);
  }
}

if (!exitFile || !program) {
  process.stderr.write("usage: agent-wrapper.mjs [--as=<uid>:<gid>] <exit-file> <program> [args...]\n");
  process.exit(2);
}

// The launcher stops a run by signalling the whole group: the agent gets the
// signal itself; the wrapper stays to record how the agent ended.
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(signal, () => {});

// stdin is what the launcher gave the wrapper: /dev/null, or the prompt file.
const child = spawn(program, args, { stdio: "inherit", ...(as ? { uid: Number(as[1]), gid: Number(as[2]) } : {}) });
child.on("error", (error) => {
  // The runbook's third signature: `command not found` in .err.log.
  const message = error.code === "ENOENT" ? `${program}: command not found` : `${program}: ${error.message}`;
  process.stderr.write(`${message}\n`);
  record({ code: error.code === "ENOENT" ? 127 : 126, signal: null, error: message });
  process.exit(error.code === "ENOENT" ? 127 : 126);
});
child.on("exit", (code, signal) => {
  record({ code, signal, child_pid: child.pid });
  process.exit(code ?? 128);
});
