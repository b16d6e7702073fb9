#!/usr/bin/env bash
# Installs the agent CLIs the launcher starts (codex, opencode, claude) into a
# cache folder, outside the project's dependencies: together they are about
# 1 GB and only the launcher host and the doctor tests need them.
#
# Idempotent: a package whose bin is already present is skipped.
# Prints the bin folder on the last line of stdout, so callers can do
#   PATH="$(scripts/install-agent-clis.sh | tail -n 1):$PATH"
#
# Env:
#   OPS_AGENT_CLI_DIR  install prefix (default ~/.cache/ops-dispatch/agent-clis)
set -euo pipefail

prefix="${OPS_AGENT_CLI_DIR:-$HOME/.cache/ops-dispatch/agent-clis}"
bin_dir="$prefix/node_modules/.bin"

# package:bin pairs
packages=(
  "@openai/codex:codex"
  "opencode-ai:opencode"
  "@anthropic-ai/claude-code:claude"
)

mkdir -p "$prefix"
# A package.json keeps npm from walking up and installing into a parent project.
if [[ ! -f "$prefix/package.json" ]]; then
  printf '{ "name": "ops-agent-clis", "private": true }\n' >"$prefix/package.json"
fi

missing=()
for entry in "${packages[@]}"; do
  pkg="${entry%%:*}"
  bin="${entry##*:}"
  if [[ -x "$bin_dir/$bin" ]]; then
    echo "[install-agent-clis] $pkg already installed ($bin_dir/$bin)" >&2
  else
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "[install-agent-clis] installing ${missing[*]} into $prefix" >&2
  npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "${missing[@]}" >&2
fi

for entry in "${packages[@]}"; do
  bin="${entry##*:}"
  if [[ ! -x "$bin_dir/$bin" ]]; then
    echo "[install-agent-clis] ERROR: $bin is still missing from $bin_dir after npm install" >&2
    exit 1
  fi
done

echo "$bin_dir"
