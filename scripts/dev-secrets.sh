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
# HS256 key of user JWTs in the README walk-through; the API tokens of config/herald.yaml are
# herald-dev-upstream-token, herald-dev-admin-token and herald-dev-reader-token (only their SHA-256 is there).
[ -s "$dir/jwt-secret" ] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/jwt-secret"
# HMAC key of stored one-time passcodes (otp.secretFile).
[ -s "$dir/otp-secret" ] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/otp-secret"
# HMAC key of the one-click unsubscribe and preference center links (links.publicURL).
[ -s "$dir/link-secret" ] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/link-secret"
chmod 600 "$dir"/*
