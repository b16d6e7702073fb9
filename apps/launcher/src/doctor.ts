import { createApiClient } from "./api.ts";
import { runDoctor, formatReport } from "./doctor-checks.ts";
import { ConfigError, envWithFile, loadConfig } from "./env.ts";

// `npm run worker:doctor` from the project root: checks this host as the launcher service sees it.
try {
  const { env, file } = envWithFile();
  const config = loadConfig(env);
  const report = await runDoctor(config, createApiClient(config.trpcUrl, config.credential), { envFile: file });
  process.stdout.write(`${formatReport(report, `worker ${config.workerId}, API ${config.apiBase}${file ? `, env file ${file}` : ""}`)}\n`);
  process.exit(report.pass ? 0 : 1);
} catch (error) {
  process.stdout.write(`[doctor] ${error instanceof ConfigError ? error.message : (error as Error).message}\n[doctor] FAIL invalid configuration\n`);
  process.exit(2);
}
