#!/usr/bin/env bash
# pnpm test: what the suites need (scripts/test-setup.sh), then every
# package's suites through turbo (turbo.json: pure suites cached, the ones that
# touch PostgreSQL, processes or Chromium always run; the secrets scan last),
# then one closing line over all of it (scripts/test-summary.mjs). Every suite
# runs even when an earlier one fails, so the line counts the whole run.
set -uo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1 TURBO_NO_UPDATE_NOTIFIER=1

bash scripts/test-setup.sh || exit 1
node scripts/test-summary.mjs --clean || exit 1

status=0
# Two test files at a time: two packages at once (turbo.json), one file each
# (vitest.shared.ts).
turbo run test test:secrets --continue || status=$?
node scripts/test-summary.mjs || status=1
exit "$status"
