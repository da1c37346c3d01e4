#!/usr/bin/env bash
# `make run`: the local outbox and the daemon side by side on the example configuration, no network and no
# account needed. Every notifier of config/herald.yaml points at the outbox, which prints one line per delivery
# and appends each request to var/outbox.jsonl. Ctrl-C stops the daemon, then the outbox.
set -euo pipefail
cd "$(dirname "$0")/.."
herald="${HERALD:-.build/release/herald}"
config="${CONFIG:-config/herald.yaml}"
bash scripts/dev-secrets.sh var/secrets
mkdir -p var
"$herald" outbox --record var/outbox.jsonl &
outbox=$!
trap 'kill -TERM "$outbox" 2>/dev/null || true; wait "$outbox" 2>/dev/null || true' EXIT
"$herald" serve --config "$config"
