#!/usr/bin/env bash
# Server-side deploy and auth hardening (runbook sections 1 and 6).
#
#   OPS_ADMIN_USER='<admin>' OPS_ADMIN_PASSWORD='<strong-pass>' OPS_SERVICE_TOKEN='<strong-token>' \
#   scripts/deploy-auth-hardening.sh --repo-path /opt/sa-ops-center --confirm-prod
#
# Steps:
#   1. update the checkout (git pull --ff-only), install dependencies, apply DB migrations, build the SPA
#   2. write the credentials into the OPS Center env file (mode 0600; other lines are kept)
#   3. restart ops-center.service: the API applies OPS_ADMIN_USER/OPS_ADMIN_PASSWORD and
#      stores OPS_SERVICE_TOKEN as ops_settings.service_api_token at start
#   4. isolate the agents from the launcher (docs/launcher.md "Isolating agents from their launcher"):
#      create the agent user if missing (useradd --system --create-home --shell /usr/sbin/nologin),
#      create its working-folder root(s) owned by it (0750), set OPS_AGENT_USER and OPS_WORKDIR_ROOTS in
#      the launcher env file unless already set there, and make the launcher's state and log folders
#      root-only (0700); a second run changes nothing
#   5. give this host's launcher its own worker token instead of the service token: keep the one in
#      OPS_WORKER_TOKEN_FILE if the API accepts it for this worker id, else issue one
#      (POST /api/workers/tokens with the service token) and write it there (root-only, 0600); the
#      launcher env file gets OPS_WORKER_TOKEN_FILE and loses OPS_SERVICE_TOKEN (other lines kept)
#   6. restart ops-dispatch-launcher.service, run worker:doctor with the worker token
# dispatch_enabled is never changed here: it is printed so the operator can decide.
# Tokens never reach the command line of curl (headers are read from 0600 files) nor the output.
#
# Env (besides the three credentials):
#   OPS_API_BASE          default http://127.0.0.1:3847/api
#   OPS_CENTER_ENV_FILE   default /etc/ops-dispatch/ops-center.env
#   OPS_LAUNCHER_ENV_FILE default /etc/ops-dispatch/launcher.env
#   OPS_WORKER_TOKEN_FILE default /etc/ops-dispatch/worker-token (the unit loads it: LoadCredential=)
#   OPS_WORKER_ID         default: OPS_WORKER_ID in the launcher env file, else <hostname>-launcher
#   OPS_WORKER_WORKSPACES workspaces a newly issued token serves, comma-separated ids; default the whole instance
#   OPS_AGENT_USER        the Unix user agents run as, default ops-agent (the launcher env file's value wins)
#   OPS_WORKDIR_ROOTS     working-folder roots for a launcher env file without one (comma-separated, ~/ is the
#                         agent user's home); default ~/work of the agent user (/home/ops-agent/work)
#   SYSTEMCTL, GIT, PNPM  the commands used (for dry runs and tests)
# Options:
#   --skip-pull           deploy the checkout as it is
#   --skip-build          skip install, migrations and build (credentials only)
set -euo pipefail

usage() {
  echo "usage: OPS_ADMIN_USER=... OPS_ADMIN_PASSWORD=... OPS_SERVICE_TOKEN=... $0 --repo-path DIR --confirm-prod [--skip-pull] [--skip-build]" >&2
}

repo_path=""
confirm=0
skip_pull=0
skip_build=0
while (($# > 0)); do
  case "$1" in
    --repo-path)
      repo_path="${2:-}"
      shift 2 || { usage; exit 2; }
      ;;
    --confirm-prod) confirm=1; shift ;;
    --skip-pull) skip_pull=1; shift ;;
    --skip-build) skip_build=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "[deploy] unknown argument: $1" >&2; usage; exit 2 ;;
  esac
done

if [[ -z "$repo_path" ]]; then
  echo "[deploy] --repo-path DIR is required" >&2
  usage
  exit 2
fi
if ((confirm != 1)); then
  echo "[deploy] refusing to run without --confirm-prod: this deploys $repo_path, rewrites credentials and restarts production services" >&2
  exit 2
fi
if [[ ! -f "$repo_path/package.json" || ! -d "$repo_path/apps/api" ]]; then
  echo "[deploy] $repo_path is not an OPS Center checkout (no package.json / apps/api)" >&2
  exit 2
fi
problems=()
[[ -n "${OPS_ADMIN_USER:-}" ]] || problems+=("OPS_ADMIN_USER is required")
password="${OPS_ADMIN_PASSWORD:-}"
token="${OPS_SERVICE_TOKEN:-}"
((${#password} >= 12)) || problems+=("OPS_ADMIN_PASSWORD must be at least 12 characters")
((${#token} >= 24)) || problems+=("OPS_SERVICE_TOKEN must be at least 24 characters (e.g. openssl rand -hex 32)")

# The same rules as the API's start (apps/api/src/auth/credential-strength.ts; the
# ops-scripts test keeps the two word lists equal): the examples' CHANGE_ME values,
# <placeholders> from the docs, common passwords (letters only, case folded, repeats
# folded: "Admin-admin1" is "admin"), too few distinct characters. Values are never echoed.
common_passwords=(password passwords passw pass passwd admin adminadmin administrator root toor
  changeme changemenow letmein welcome qwerty qwertyuiop asdfgh asdfghjkl zxcvbnm secret topsecret
  default token servicetoken apitoken opscenter ops dispatch opsdispatch iloveyou monkey dragon
  master login abc abcdef abcdefgh test testing guest user superuser trustno football baseball
  sunshine princess shadow starwars whatever freedom security example sample placeholder
  strongpassword strongpass strongtoken randomtoken mypassword yourpassword newpassword temp
  temporary)
credential_weakness() { # VALUE token|password → prints why it is refused, or nothing
  local value="$1" kind="$2" lower letters unit size distinct min
  lower="$(printf '%s' "$value" | LC_ALL=C.UTF-8 tr '[:upper:]' '[:lower:]')"
  if [[ "$lower" =~ change[_-]?me ]]; then echo "is still a CHANGE_ME placeholder (deploy/env/*.example)"; return; fi
  if [[ "$value" =~ ^[[:space:]]*\<.*\>[[:space:]]*$ ]]; then echo "is a <placeholder> copied from the docs"; return; fi
  letters="$(printf '%s' "$lower" | LC_ALL=C.UTF-8 sed 's/[^[:alpha:]]//g')"
  unit="$letters"
  for ((size = 1; size <= ${#letters} / 2; size++)); do
    if ((${#letters} % size == 0)); then
      local piece="${letters:0:size}" repeated=""
      while ((${#repeated} < ${#letters})); do repeated+="$piece"; done
      if [[ "$repeated" == "$letters" ]]; then unit="$piece"; break; fi
    fi
  done
  if [[ -z "$letters" && "$kind" == password ]] || [[ " ${common_passwords[*]} " == *" $unit "* && -n "$unit" ]]; then
    echo "is a common password or a variation of one"
    return
  fi
  distinct="$(printf '%s' "$value" | LC_ALL=C.UTF-8 grep -o . | sort -u | wc -l)"
  min=6
  [[ "$kind" == token ]] && min=10
  if ((distinct < min)); then echo "uses only $distinct distinct characters (at least $min needed)"; fi
}
if weak="$(credential_weakness "$password" password)" && [[ -n "$weak" ]]; then
  problems+=("OPS_ADMIN_PASSWORD $weak; choose a long passphrase of your own (or openssl rand -base64 18)")
fi
if weak="$(credential_weakness "$token" token)" && [[ -n "$weak" ]]; then
  problems+=("OPS_SERVICE_TOKEN $weak; set a random token: openssl rand -hex 32")
fi
if ((${#problems[@]} > 0)); then
  printf '[deploy] %s\n' "${problems[@]}" >&2
  exit 2
fi
command -v curl >/dev/null || { echo "[deploy] curl is required" >&2; exit 2; }

api_base="${OPS_API_BASE:-http://127.0.0.1:3847/api}"
api_base="${api_base%/}"
center_env="${OPS_CENTER_ENV_FILE:-/etc/ops-dispatch/ops-center.env}"
launcher_env="${OPS_LAUNCHER_ENV_FILE:-/etc/ops-dispatch/launcher.env}"
token_file="${OPS_WORKER_TOKEN_FILE:-/etc/ops-dispatch/worker-token}"
workspaces="${OPS_WORKER_WORKSPACES:-}"
if [[ -n "$workspaces" && ! "$workspaces" =~ ^[0-9]+(,[0-9]+)*$ ]]; then
  echo "[deploy] OPS_WORKER_WORKSPACES must be workspace ids separated by commas (e.g. 1,2), or empty for the whole instance" >&2
  exit 2
fi
command -v node >/dev/null || { echo "[deploy] node is required (it reads the API's JSON answers)" >&2; exit 2; }
systemctl_cmd="${SYSTEMCTL:-systemctl}"
git_cmd="${GIT:-git}"
pnpm_cmd="${PNPM:-pnpm}"

step() { echo "[deploy] $*"; }

# set_env_var FILE KEY VALUE: replaces KEY's line or appends it; keeps every other line; 0600.
set_env_var() {
  local file="$1" key="$2" value="$3" tmp
  mkdir -p "$(dirname "$file")"
  tmp="$(mktemp "$file.XXXXXX")"
  chmod 0600 "$tmp"
  if [[ -f "$file" ]]; then
    grep -v -E "^(export[[:space:]]+)?${key}=" "$file" >"$tmp" || true
  fi
  printf '%s=%s\n' "$key" "$value" >>"$tmp"
  mv "$tmp" "$file"
}

# remove_env_var FILE KEY: drops KEY's lines, keeps every other line; 0600.
remove_env_var() {
  local file="$1" key="$2" tmp
  [[ -f "$file" ]] || return 0
  tmp="$(mktemp "$file.XXXXXX")"
  chmod 0600 "$tmp"
  grep -v -E "^(export[[:space:]]+)?${key}=" "$file" >"$tmp" || true
  mv "$tmp" "$file"
}

# The worker id the launcher will use: as the launcher computes it (apps/launcher/src/env.ts).
worker_id="${OPS_WORKER_ID:-}"
if [[ -z "$worker_id" && -f "$launcher_env" ]]; then
  worker_id="$(sed -n -E 's/^(export[[:space:]]+)?OPS_WORKER_ID=["'"'"']?([^"'"'"']*)["'"'"']?[[:space:]]*$/\2/p' "$launcher_env" | tail -n 1)"
fi
if [[ -z "$worker_id" ]]; then
  worker_id="$(hostname | tr -c 'A-Za-z0-9._:@\n-' '-')-launcher"
fi
if [[ ! "$worker_id" =~ ^[A-Za-z0-9._:@-]{1,200}$ ]]; then
  echo "[deploy] OPS_WORKER_ID may contain letters, digits and . _ : @ - only (max 200): $worker_id" >&2
  exit 2
fi

# env_file_value FILE KEY: KEY's value in a systemd env file (last one wins, quotes dropped), empty when absent.
env_file_value() {
  [[ -f "$1" ]] || return 0
  sed -n -E 's/^(export[[:space:]]+)?'"$2"'=["'"'"']?([^"'"'"']*)["'"'"']?[[:space:]]*$/\2/p' "$1" | tail -n 1
}

# The agent user: the launcher env file's OPS_AGENT_USER when set (what the launcher uses), else this script's.
file_agent_user="$(env_file_value "$launcher_env" OPS_AGENT_USER)"
agent_user="${file_agent_user:-${OPS_AGENT_USER:-ops-agent}}"
if [[ -n "$file_agent_user" && -n "${OPS_AGENT_USER:-}" && "$OPS_AGENT_USER" != "$file_agent_user" ]]; then
  echo "[deploy] OPS_AGENT_USER=$OPS_AGENT_USER differs from OPS_AGENT_USER=$file_agent_user in $launcher_env; unset one of them or make them equal" >&2
  exit 2
fi
if [[ ! "$agent_user" =~ ^[a-z_][a-z0-9_-]{0,30}$ ]]; then
  echo "[deploy] OPS_AGENT_USER must be a Unix user name (lowercase letters, digits, _ and -, at most 31): $agent_user" >&2
  exit 2
fi
if [[ "$agent_user" == root ]]; then
  echo "[deploy] OPS_AGENT_USER must not be root: agents would hold the launcher's powers" >&2
  exit 2
fi
# Working-folder roots: the file's OPS_WORKDIR_ROOTS, else its deprecated OPS_DEFAULT_WORKDIR (kept, with a
# note), else this script's OPS_WORKDIR_ROOTS or ~/work of the agent user, which is then written to the file.
roots_in_file="$(env_file_value "$launcher_env" OPS_WORKDIR_ROOTS)"
roots_var=OPS_WORKDIR_ROOTS
if [[ -z "$roots_in_file" ]]; then
  roots_in_file="$(env_file_value "$launcher_env" OPS_DEFAULT_WORKDIR)"
  [[ -z "$roots_in_file" ]] || roots_var=OPS_DEFAULT_WORKDIR
fi
roots_text="${roots_in_file:-${OPS_WORKDIR_ROOTS:-~/work}}"

# Temporary header files (0600) so no token shows in the process list; removed on exit.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
header_file() {
  local file="$scratch/$1"
  (umask 077 && printf '%s: %s\n' "$2" "$3" >"$file")
  printf '%s' "$file"
}
# json_get FIELD < JSON: prints one top-level field (objects as JSON), empty when absent.
json_get() {
  node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>{let v;try{v=JSON.parse(s)}catch{v=undefined}const f=process.argv[1].split(".").reduce((o,k)=>(o==null?undefined:o[k]),v);process.stdout.write(f==null?"":typeof f==="object"?JSON.stringify(f):String(f))})' "$1"
}

# 1) Code, dependencies, database, SPA.
if ((skip_pull == 0)); then
  step "updating $repo_path (git pull --ff-only)"
  "$git_cmd" -C "$repo_path" pull --ff-only
fi
if ((skip_build == 0)); then
  step "installing dependencies, applying migrations, building the SPA"
  (cd "$repo_path" && "$pnpm_cmd" install --frozen-lockfile && "$pnpm_cmd" db:migrate && "$pnpm_cmd" --filter @ops/web build)
fi

# 2) Credentials into the services' env files.
step "writing credentials to $center_env (mode 0600)"
set_env_var "$center_env" OPS_ADMIN_USER "$OPS_ADMIN_USER"
set_env_var "$center_env" OPS_ADMIN_PASSWORD "$OPS_ADMIN_PASSWORD"
set_env_var "$center_env" OPS_SERVICE_TOKEN "$OPS_SERVICE_TOKEN"
# nginx on this host (docs/nginx.md): only 127.0.0.1 may say who the client is.
grep -q -E '^TRUST_PROXY=' "$center_env" || set_env_var "$center_env" TRUST_PROXY 127.0.0.1

# 3) Restart the API: it applies the admin credentials and stores the token at start.
step "restarting ops-center.service"
"$systemctl_cmd" restart ops-center.service
deadline=$((SECONDS + ${DEPLOY_WAIT_SECONDS:-60}))
code="000"
until [[ "$code" == "200" ]]; do
  code="$(curl -sS -o /dev/null -w '%{http_code}' -H "X-OPS-Service-Token: $OPS_SERVICE_TOKEN" "$api_base/auth/me" || true)"
  if [[ "$code" == "200" ]]; then break; fi
  if ((SECONDS >= deadline)); then
    echo "[deploy] ERROR: $api_base/auth/me did not accept the new service token (HTTP $code); check journalctl -u ops-center.service" >&2
    exit 1
  fi
  sleep 1
done
step "API accepts the new service token"

# 4) Agents as their own Unix user, in working folders it owns; the launcher's files stay root's.
if ! getent passwd "$agent_user" >/dev/null; then
  if [[ "$(id -u)" != 0 ]]; then
    echo "[deploy] ERROR: no Unix user $agent_user and this script is not root, so it cannot create it (run it as root)" >&2
    exit 1
  fi
  useradd --system --create-home --shell /usr/sbin/nologin "$agent_user"
  step "created the agent user $agent_user (system user, no login shell)"
else
  step "agent user $agent_user exists; kept"
fi
IFS=: read -r _ _ agent_uid agent_gid _ agent_home _ <<<"$(getent passwd "$agent_user")"
if [[ "$agent_uid" == 0 ]]; then
  echo "[deploy] ERROR: $agent_user has uid 0: agents would hold the launcher's powers; name an unprivileged user in OPS_AGENT_USER" >&2
  exit 1
fi
if [[ -z "$agent_home" || "$agent_home" != /* ]]; then
  echo "[deploy] ERROR: $agent_user has no home folder (agents keep their CLI logins there); usermod --home /home/$agent_user --move-home $agent_user" >&2
  exit 1
fi
if [[ ! -d "$agent_home" ]]; then
  install -d -m 0750 -o "$agent_uid" -g "$agent_gid" "$agent_home"
  step "created $agent_user's home $agent_home (0750)"
fi
IFS=, read -r -a roots <<<"$roots_text"
expanded_roots=()
for root in "${roots[@]}"; do
  root="${root#"${root%%[![:space:]]*}"}"
  root="${root%"${root##*[![:space:]]}"}"
  [[ -n "$root" ]] || continue
  case "$root" in
    \~) root="$agent_home" ;;
    \~/*) root="$agent_home/${root#\~/}" ;;
  esac
  if [[ "$root" != /* || "$root" == / ]]; then
    echo "[deploy] ERROR: $roots_var: \"$root\" must be an absolute folder other than / (or start with ~/)" >&2
    exit 1
  fi
  expanded_roots+=("$root")
  if [[ ! -e "$root" ]]; then
    mkdir -p "$(dirname "$root")"
    install -d -m 0750 -o "$agent_uid" -g "$agent_gid" "$root"
    step "created the working-folder root $root (owner $agent_user, 0750)"
  elif [[ "$(stat -c %u "$root")" != "$agent_uid" ]]; then
    # An existing folder of someone else's is never taken over (it may be /root or a shared checkout).
    step "WARNING: the working-folder root $root is owned by uid $(stat -c %u "$root"), not $agent_user: agents cannot create their task folders there; chown $agent_user: $root or name another root"
  fi
done
if [[ -z "$file_agent_user" ]]; then
  set_env_var "$launcher_env" OPS_AGENT_USER "$agent_user"
  step "launcher env $launcher_env: OPS_AGENT_USER=$agent_user"
fi
if [[ -z "$roots_in_file" ]]; then
  set_env_var "$launcher_env" OPS_WORKDIR_ROOTS "$roots_text"
  step "launcher env $launcher_env: OPS_WORKDIR_ROOTS=$roots_text (${expanded_roots[*]})"
elif [[ "$roots_var" == OPS_DEFAULT_WORKDIR ]]; then
  step "launcher env $launcher_env keeps the deprecated OPS_DEFAULT_WORKDIR=$roots_in_file as the working-folder root; rename it to OPS_WORKDIR_ROOTS"
fi
# The launcher's own folders: only root reads them (its state holds run records, its logs the agents' output).
state_dir="$(env_file_value "$launcher_env" OPS_LAUNCHER_STATE_DIR)"
log_dir="$(env_file_value "$launcher_env" OPS_LAUNCHER_LOG_DIR)"
state_dir="${state_dir:-~/.ops-launcher-state}"
log_dir="${log_dir:-~/.ops-launcher-logs}"
for dir in "$state_dir" "$log_dir"; do
  case "$dir" in \~/*) dir="$HOME/${dir#\~/}" ;; esac
  mkdir -p "$dir"
  chmod 0700 "$dir"
done
# Agents on PATH: a CLI under /root is out of the agent user's reach.
launcher_path="$(env_file_value "$launcher_env" PATH)"
if [[ "$launcher_path" == *"/root/"* ]]; then
  step "WARNING: PATH in $launcher_env has folders under /root, which $agent_user cannot reach; install the CLIs with OPS_AGENT_CLI_DIR=/opt/ops-agent-clis bash scripts/install-agent-clis.sh and put /opt/ops-agent-clis/node_modules/.bin on PATH"
fi

# 5) The launcher's own worker token: an instance admin credential (the service token) stays off worker hosts.
service_header="$(header_file service "X-OPS-Service-Token" "$OPS_SERVICE_TOKEN")"
kept=0
if [[ -s "$token_file" ]]; then
  current="$(tr -d '[:space:]' <"$token_file")"
  answer="$(curl -sS -H @"$(header_file worker "X-OPS-Worker-Token" "$current")" "$api_base/dispatch/credential" || true)"
  if [[ "$(json_get credential <<<"$answer")" == "worker_token" && "$(json_get worker_id <<<"$answer")" == "$worker_id" ]]; then
    kept=1
    step "the worker token in $token_file is valid for worker $worker_id; kept"
  else
    step "the token in $token_file is not a valid worker token for $worker_id (revoked, unknown or another worker's); issuing a new one"
  fi
  unset current answer
fi
if ((kept == 0)); then
  pool="null"
  [[ -z "$workspaces" ]] || pool="[$workspaces]"
  body="{\"worker_id\":\"$worker_id\",\"label\":\"$(hostname | tr -cd 'A-Za-z0-9._:@-') (deploy-auth-hardening)\",\"workspace_ids\":$pool}"
  issued="$(curl -sS -w '\n%{http_code}' -H @"$service_header" -H 'Content-Type: application/json' -X POST --data "$body" "$api_base/workers/tokens" || true)"
  code="${issued##*$'\n'}"
  issued="${issued%$'\n'*}"
  new_token="$(json_get token <<<"$issued")"
  if [[ "$code" != "200" || -z "$new_token" ]]; then
    echo "[deploy] ERROR: could not issue a worker token for $worker_id (HTTP $code): $(json_get error.message <<<"$issued")" >&2
    exit 1
  fi
  mkdir -p "$(dirname "$token_file")"
  tmp="$(umask 077 && mktemp "$token_file.XXXXXX")"
  chmod 0600 "$tmp"
  printf '%s\n' "$new_token" >"$tmp"
  mv "$tmp" "$token_file"
  step "issued worker token #$(json_get credential.id <<<"$issued") for worker $worker_id (serves ${workspaces:-the whole instance}) into $token_file (mode 0600); older tokens of $worker_id stay valid until revoked in Ajustes → Workers"
  unset issued new_token
fi
step "launcher env $launcher_env: OPS_WORKER_TOKEN_FILE=$token_file, OPS_SERVICE_TOKEN removed (mode 0600)"
set_env_var "$launcher_env" OPS_WORKER_TOKEN_FILE "$token_file"
remove_env_var "$launcher_env" OPS_SERVICE_TOKEN
remove_env_var "$launcher_env" OPS_WORKER_TOKEN

# The env and token files: root-only, whatever an earlier setup left.
for file in "$center_env" "$launcher_env" "$token_file"; do
  [[ ! -f "$file" ]] || chmod 0600 "$file"
done

# 6) Launcher with its worker token, then the host check (as the launcher authenticates: no service token).
step "restarting ops-dispatch-launcher.service"
"$systemctl_cmd" restart ops-dispatch-launcher.service
step "running worker:doctor"
doctor_ok=1
(cd "$repo_path" && env -u OPS_SERVICE_TOKEN -u OPS_WORKER_TOKEN OPS_WORKER_TOKEN_FILE="$token_file" OPS_WORKER_ID="$worker_id" OPS_LAUNCHER_ENV_FILE="$launcher_env" OPS_API_BASE="$api_base" "$pnpm_cmd" --silent --filter @ops/launcher run doctor) || doctor_ok=0

dispatch="$(curl -sS -H "X-OPS-Service-Token: $OPS_SERVICE_TOKEN" "$api_base/settings/dispatch_enabled" || true)"
step "dispatch_enabled setting: $dispatch (unchanged; enable it only after doctor passes and a pilot task succeeds)"
if ((doctor_ok == 0)); then
  echo "[deploy] worker:doctor did not pass: keep dispatch_enabled=false and fix the runtimes it names" >&2
  exit 1
fi
step "OK"
