import { writeFileSync } from "node:fs";
import { loopStats } from "./loop-stats.ts";

// Loaded into the API process by the fleet scenario when FLEET_DIAG_DIR is set
// (`--import` after tsx; nothing in the API changes). SIGUSR2 starts a window,
// the next SIGUSR2 ends it and writes its figures to BENCH_LOOP_STATS_FILE
// (and a CPU profile of the window when BENCH_PROFILE_DIR is set).

const file = process.env.BENCH_LOOP_STATS_FILE;
if (file) {
  const stats = loopStats(process.env.BENCH_PROFILE_DIR || undefined, "api");
  let open = false;
  process.on("SIGUSR2", () => {
    open = !open;
    if (open) void stats.begin();
    else void stats.end().then((s) => writeFileSync(file, JSON.stringify(s)));
  });
}
