#!/usr/bin/env bash
# Creates placeholder secret files for the example configuration (never used in production).
set -euo pipefail
dir="${1:-var/secrets}"
mkdir -p "$dir"
chmod 700 "$dir"
[ -s "$dir/slack-token" ] || echo "xoxb-placeholder-replace-me" > "$dir/slack-token"
[ -s "$dir/smtp-password" ] || echo "placeholder-smtp-password" > "$dir/smtp-password"
[ -s "$dir/twilio-token" ] || echo "placeholder-twilio-token" > "$dir/twilio-token"
[ -s "$dir/webhook-secret" ] || head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/webhook-secret"
chmod 600 "$dir"/*
