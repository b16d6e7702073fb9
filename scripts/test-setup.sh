#!/usr/bin/env bash
# What `pnpm test` needs beyond Node and the project's dependencies, installed
# or started only when missing (a few seconds when everything is there):
#   - Debian's Chromium (browser suite); shellcheck, logrotate, systemd-analyze,
#     jq, curl (ops scripts and units); nginx and openssl (the API behind the
#     docs' nginx block, tests/perimeter); the PostgreSQL server and client;
#   - a running PostgreSQL on 127.0.0.1:5432 (the suites create a database per file);
#   - the agent CLIs in their cache folder (doctor tests against the real CLIs).
# Anything it cannot provide is named, and the run stops: no suite is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[test-setup] %s\n' "$*" >&2; }

need=()
[[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]] || need+=(chromium)
command -v shellcheck >/dev/null || need+=(shellcheck)
command -v logrotate >/dev/null || [[ -x /usr/sbin/logrotate ]] || need+=(logrotate)
command -v systemd-analyze >/dev/null || need+=(systemd)
command -v jq >/dev/null || need+=(jq)
command -v curl >/dev/null || need+=(curl)
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || need+=(nginx)
command -v openssl >/dev/null || need+=(openssl)
command -v pg_isready >/dev/null || need+=(postgresql postgresql-client)
if ((${#need[@]})); then
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    log "missing: ${need[*]}; install these Debian packages (as root: apt-get install -y ${need[*]}) and run again"
    exit 1
  fi
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [[ -z "${OPS_TEST_DATABASE_URL:-}" ]] && ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  log "starting PostgreSQL"
  # shellcheck disable=SC2012  # cluster versions are plain numbers
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  pg_isready -h 127.0.0.1 -p 5432 -q || { log "PostgreSQL did not start on 127.0.0.1:5432"; exit 1; }
fi

bash scripts/install-agent-clis.sh >/dev/null
