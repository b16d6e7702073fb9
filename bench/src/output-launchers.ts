/**
 * The launchers of the output scenario, in a process of their own so their
 * work (writing the agents' files, reading, redacting and uploading them) does
 * not stall the event loop that times the claims (output.ts).
 *
 * Input (OUTPUT_BENCH JSON in the environment): the API, the runs and how long
 * to write. Writes the runs' files for `writeMs`, then finishes every run,
 * streams the rest and prints one JSON line: the uploads it made.
 */
import { appendFileSync } from "node:fs";
import { OutputStreamer } from "../../apps/launcher/src/output-streamer.ts";
import { restClient } from "./client.ts";

interface Input {
  apiBase: string;
  token: string;
  writeMs: number;
  bytesPerSecond: number;
  runs: Array<{ taskId: number; attempt: number; launcher: number; out: string; err: string }>;
}

const input = JSON.parse(process.env.OUTPUT_BENCH ?? "{}") as Input;
const rest = restClient(input.apiBase, input.token);
const quietLog = { info() {}, warn() {}, error() {} } as never;
let uploads = 0;
const launchers = [...new Set(input.runs.map((r) => r.launcher))];
const streamers = new Map(
  launchers.map((l) => [
    l,
    new OutputStreamer({
      upload: async (chunks) => {
        uploads++;
        return (await rest.call("POST", "/dispatch/output", { worker_id: `bench-launcher-${l}`, chunks })).results;
      },
      log: quietLog,
      secrets: () => [input.token],
      persist: () => {},
    }),
  ]),
);
for (const run of input.runs) streamers.get(run.launcher)!.track({ taskId: run.taskId, attempt: run.attempt, logPath: run.out, errLogPath: run.err });

// Agents: every 100 ms about a tenth of a second's bytes of numbered lines on stdout; a coloured line a second on stderr.
let line = 0;
const piece = Math.round(input.bytesPerSecond / 10);
const writer = setInterval(() => {
  for (const run of input.runs) {
    let text = "";
    while (text.length < piece) text += `${run.taskId} line ${line++} ${"lorem ipsum dolor sit amet ".repeat(3)}\n`;
    appendFileSync(run.out, text);
  }
}, 100);
const errWriter = setInterval(() => {
  for (const run of input.runs) appendFileSync(run.err, `\u001b[33mwarning\u001b[0m at ${Date.now()}\n`);
}, 1000);
// The launchers' supervise tick.
const tick = setInterval(() => {
  for (const s of streamers.values()) void s.flush();
}, 250);

process.stdout.write("writing\n");

setTimeout(async () => {
  clearInterval(writer);
  clearInterval(errWriter);
  clearInterval(tick);
  for (const run of input.runs) streamers.get(run.launcher)!.finish(run.taskId, run.attempt);
  const deadline = Date.now() + 120_000;
  while ([...streamers.values()].some((s) => !s.idle) && Date.now() < deadline) {
    await Promise.all([...streamers.values()].map((s) => s.flush()));
    await new Promise((r) => setTimeout(r, 250));
  }
  process.stdout.write(`${JSON.stringify({ uploads })}\n`);
  process.exit(0);
}, input.writeMs);
