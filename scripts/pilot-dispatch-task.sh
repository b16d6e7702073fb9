#!/usr/bin/env bash
# Controlled pilot dispatch of one task (runbook section 2 and 6).
#
#   OPS_SERVICE_TOKEN='<token>' scripts/pilot-dispatch-task.sh --task-id 411 --confirm-pilot
#
# Steps: check the task (interactive, agent assigned), remember dispatch_enabled,
# enable dispatch, dispatch the task, watch queued -> dispatching -> doing, show
# dispatch_output, the detached log paths and where to read the run's output,
# then put dispatch_enabled back to the value it had. The restore runs on every exit path: success, error, Ctrl-C
# (SIGINT), SIGTERM. It happens as soon as the task is claimed, so no other
# queued task gets dispatched behind the pilot's back.
#
# Env:
#   OPS_SERVICE_TOKEN          required (X-OPS-Service-Token)
#   OPS_API_BASE               default http://127.0.0.1:3847/api
#   PILOT_TIMEOUT_SECONDS      how long to wait for the launch (default 120)
#   PILOT_POLL_SECONDS         poll interval (default 1)
# Options:
#   --wait-finish              after the launch, keep watching until review or blocked
set -euo pipefail

usage() {
  echo "usage: OPS_SERVICE_TOKEN=... $0 --task-id N --confirm-pilot [--wait-finish]" >&2
}

task_id=""
confirm=0
wait_finish=0
while (($# > 0)); do
  case "$1" in
    --task-id)
      task_id="${2:-}"
      shift 2 || { usage; exit 2; }
      ;;
    --confirm-pilot) confirm=1; shift ;;
    --wait-finish) wait_finish=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "[pilot] unknown argument: $1" >&2; usage; exit 2 ;;
  esac
done

if [[ ! "$task_id" =~ ^[1-9][0-9]*$ ]]; then
  echo "[pilot] --task-id N is required (a positive task id)" >&2
  usage
  exit 2
fi
if ((confirm != 1)); then
  echo "[pilot] refusing to run without --confirm-pilot: this enables dispatch on $(printf '%s' "${OPS_API_BASE:-http://127.0.0.1:3847/api}") and launches an AI agent" >&2
  exit 2
fi
if [[ -z "${OPS_SERVICE_TOKEN:-}" ]]; then
  echo "[pilot] OPS_SERVICE_TOKEN is required" >&2
  exit 2
fi
for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "[pilot] $tool is required" >&2; exit 2; }
done

api_base="${OPS_API_BASE:-http://127.0.0.1:3847/api}"
api_base="${api_base%/}"
timeout_s="${PILOT_TIMEOUT_SECONDS:-120}"
poll_s="${PILOT_POLL_SECONDS:-1}"
body_file="$(mktemp)"
status=""

# api METHOD PATH [JSON]: sets $status and leaves the body in $body_file.
api() {
  local method="$1" path="$2" data="${3:-}"
  local args=(-sS -o "$body_file" -w '%{http_code}' -X "$method" -H "X-OPS-Service-Token: $OPS_SERVICE_TOKEN")
  if [[ -n "$data" ]]; then args+=(-H 'Content-Type: application/json' -d "$data"); fi
  status="$(curl "${args[@]}" "$api_base$path")" || status="000"
}
body() { cat "$body_file"; }
fail() {
  echo "[pilot] ERROR: $*" >&2
  exit 1
}

prior=""
restored=0
restore_dispatch() {
  if ((restored == 1)) || [[ -z "$prior" ]]; then return 0; fi
  restored=1
  api PUT /settings/dispatch_enabled "{\"value\":\"$prior\"}"
  if [[ "$status" == "200" ]]; then
    echo "[pilot] dispatch_enabled restored to $prior"
  else
    echo "[pilot] WARNING: could not restore dispatch_enabled to $prior (HTTP $status): $(body)" >&2
    echo "[pilot] restore it by hand: curl -X PUT -H 'X-OPS-Service-Token: ...' -H 'Content-Type: application/json' -d '{\"value\":\"$prior\"}' $api_base/settings/dispatch_enabled" >&2
  fi
}
on_exit() {
  local code=$?
  restore_dispatch
  rm -f "$body_file"
  exit "$code"
}
on_signal() {
  echo "[pilot] interrupted ($1)" >&2
  # The EXIT trap restores dispatch_enabled.
  exit 130
}
trap on_exit EXIT
trap 'on_signal SIGINT' INT
trap 'on_signal SIGTERM' TERM

# 1) The pilot task must exist, be interactive and have an agent.
api GET "/tasks/$task_id"
[[ "$status" == "200" ]] || fail "task $task_id not readable (HTTP $status): $(body)"
execution="$(body | jq -r .execution)"
agent_slug="$(body | jq -r '.agent_slug // empty')"
title="$(body | jq -r .title)"
[[ "$execution" == "interactive" ]] || fail "task $task_id has execution=$execution; the pilot needs execution=interactive"
[[ -n "$agent_slug" ]] || fail "task $task_id has no agent assigned"
echo "[pilot] task $task_id \"$title\" (agent $agent_slug)"

# 2) Remember dispatch_enabled, then enable it.
api GET /settings/dispatch_enabled
[[ "$status" == "200" ]] || fail "cannot read dispatch_enabled (HTTP $status): $(body)"
prior="$(body | jq -r .value)"
[[ "$prior" == "true" || "$prior" == "false" ]] || fail "unexpected dispatch_enabled value: $prior"
echo "[pilot] dispatch_enabled was $prior"
if [[ "$prior" != "true" ]]; then
  api PUT /settings/dispatch_enabled '{"value":"true"}'
  [[ "$status" == "200" ]] || fail "cannot enable dispatch (HTTP $status): $(body)"
  echo "[pilot] dispatch_enabled set to true"
fi

# 3) Dispatch the task.
api POST "/tasks/$task_id/dispatch"
[[ "$status" == "200" ]] || fail "dispatch refused (HTTP $status): $(body)"
echo "[pilot] task $task_id queued"

# 4) Watch queued -> dispatching -> doing.
last=""
deadline=$((SECONDS + timeout_s))
while :; do
  api GET "/tasks/$task_id"
  [[ "$status" == "200" ]] || fail "cannot read task $task_id (HTTP $status): $(body)"
  now="$(body | jq -r .status)"
  if [[ "$now" != "$last" ]]; then
    echo "[pilot] status: $now"
    last="$now"
  fi
  case "$now" in
    doing | review) break ;;
    waiting)
      fail "task $task_id blocked: $(body | jq -r '.blocked_reason // "no reason"')"
      ;;
  esac
  if ((SECONDS >= deadline)); then
    fail "task $task_id still $now after ${timeout_s}s; check: curl -H 'X-OPS-Service-Token: ...' $api_base/dispatch/health"
  fi
  sleep "$poll_s"
done

# Claimed: nothing else should be dispatched on the pilot's account. The
# restore's own request reuses the body file, so keep the task as it was read.
task_json="$(body)"
restore_dispatch
echo "[pilot] dispatch_output:"
jq '.dispatch_output' <<<"$task_json"
echo "[pilot] logs: $(jq -r '.dispatch_output.log_path // "?"' <<<"$task_json") $(jq -r '.dispatch_output.err_log_path // "?"' <<<"$task_json")"
api GET "/tasks/$task_id/runs?limit=1"
if [[ "$status" == "200" ]]; then
  run_id="$(body | jq -r '.[0].id // empty')"
  [[ -z "$run_id" ]] || echo "[pilot] run $run_id output: curl -H 'X-OPS-Service-Token: ...' '$api_base/tasks/$task_id/runs/$run_id/output?format=text'"
fi

if ((wait_finish == 1)); then
  while :; do
    api GET "/tasks/$task_id"
    [[ "$status" == "200" ]] || fail "cannot read task $task_id (HTTP $status): $(body)"
    now="$(body | jq -r .status)"
    if [[ "$now" != "$last" ]]; then
      echo "[pilot] status: $now"
      last="$now"
    fi
    case "$now" in
      review) echo "[pilot] done: task $task_id in review"; break ;;
      waiting) fail "task $task_id blocked: $(body | jq -r '.blocked_reason // "no reason"')" ;;
    esac
    sleep "$poll_s"
  done
fi
echo "[pilot] OK"
