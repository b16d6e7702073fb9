#!/usr/bin/env bash
# Installs the agent CLIs the launcher starts (codex, opencode, claude) into a
# cache folder, outside the project's dependencies: together they are about
# 1 GB and only the launcher host and the doctor tests need them.
#
# Versions are pinned: apps/launcher/test/real-clis.test.ts runs each CLI for
# real through the launcher's built-in commands, so a new release (new flags,
# new config, new wire format) is taken on purpose: bump the pin, run that
# suite, fix the template if it fails. A package whose installed version
# differs from its pin is reinstalled; one already at its pin is skipped.
# (claude-code: newer 2.1.x releases need Node 22; 2.1.197 runs on Node 20.)
# Prints the bin folder on the last line of stdout, so callers can do
#   PATH="$(scripts/install-agent-clis.sh | tail -n 1):$PATH"
#
# Env:
#   OPS_AGENT_CLI_DIR  install prefix (default ~/.cache/ops-dispatch/agent-clis)
set -euo pipefail

prefix="${OPS_AGENT_CLI_DIR:-$HOME/.cache/ops-dispatch/agent-clis}"
bin_dir="$prefix/node_modules/.bin"

# package:version:bin
packages=(
  "@openai/codex:0.171.0:codex"
  "opencode-ai:1.18.33:opencode"
  "@anthropic-ai/claude-code:2.1.197:claude"
)

mkdir -p "$prefix"
# A package.json keeps npm from walking up and installing into a parent project.
if [[ ! -f "$prefix/package.json" ]]; then
  printf '{ "name": "ops-agent-clis", "private": true }\n' >"$prefix/package.json"
fi

installed_version() {
  local manifest="$prefix/node_modules/$1/package.json"
  [[ -f "$manifest" ]] || return 0
  node -e 'process.stdout.write(String(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).version ?? ""))' "$manifest"
}

wanted=()
for entry in "${packages[@]}"; do
  IFS=: read -r pkg version bin <<<"$entry"
  have="$(installed_version "$pkg")"
  if [[ "$have" == "$version" && -x "$bin_dir/$bin" ]]; then
    echo "[install-agent-clis] $pkg@$version already installed ($bin_dir/$bin)" >&2
  else
    echo "[install-agent-clis] $pkg: installed ${have:-nothing}, pinned $version" >&2
    wanted+=("$pkg@$version")
  fi
done

if ((${#wanted[@]} > 0)); then
  echo "[install-agent-clis] installing ${wanted[*]} into $prefix" >&2
  npm install --prefix "$prefix" --save-exact --no-audit --no-fund --loglevel=error "${wanted[@]}" >&2
fi

for entry in "${packages[@]}"; do
  IFS=: read -r pkg version bin <<<"$entry"
  have="$(installed_version "$pkg")"
  if [[ ! -x "$bin_dir/$bin" || "$have" != "$version" ]]; then
    echo "[install-agent-clis] ERROR: $pkg is ${have:-missing} in $prefix after npm install, not the pinned $version" >&2
    exit 1
  fi
done

echo "$bin_dir"
