#!/usr/bin/env bash
# Fuzzes the HTTP API from openapi.yaml with schemathesis (pinned) against a running `herald serve`.
#
#   scripts/fuzz-api.sh                 # starts its own daemon on a temporary copy of the example configuration
#   HERALD_API=http://127.0.0.1:8425 scripts/fuzz-api.sh   # or fuzz a daemon that already runs
#
# Checks: no 5xx, every status, header and body as documented, the error envelope everywhere, invalid input
# refused. Generated bodies are valid and invalid; the admin token of the example configuration is sent.
# `positive_data_acceptance` is left out: the document cannot express Herald's semantic rules (an event key
# must be in the catalog, references must exist, a value must suit its type, E.164 phones…), so schema-valid
# requests that break them are rightly refused with 400.
# Exit status is schemathesis's (non-zero when any check failed). MAX_EXAMPLES (default 40) per operation.
set -euo pipefail
cd "$(dirname "$0")/.."
SCHEMATHESIS_VERSION=4.32.5
venv="${FUZZ_VENV:-.build/fuzz-venv}"
if [ ! -x "$venv/bin/schemathesis" ] || ! "$venv/bin/schemathesis" --version | grep -q "$SCHEMATHESIS_VERSION"; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi
token="${HERALD_TOKEN:-herald-dev-admin-token}"
daemon_pid=""
work=""
cleanup() {
    if [ -n "$daemon_pid" ]; then kill -TERM "$daemon_pid" 2>/dev/null || true; wait "$daemon_pid" 2>/dev/null || true; fi
    if [ -n "$work" ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
if [ -z "${HERALD_API:-}" ]; then
    binary="${HERALD_BINARY:-.build/debug/herald}"
    [ -x "$binary" ] || swift build --product herald
    work="$(mktemp -d /tmp/herald-fuzz.XXXXXX)"
    mkdir -p "$work/config" "$work/var"
    cp -r config/templates "$work/config/"
    bash scripts/dev-secrets.sh "$work/var/secrets" >/dev/null
    port="${FUZZ_PORT:-18425}"
    sed -e "s/127.0.0.1:8425/127.0.0.1:$port/" -e 's/^  metricsListen:.*$//' \
        -e 's/preferencesPerMinute: 60/preferencesPerMinute: 100000/' config/herald.yaml >"$work/config/herald.yaml"
    "$binary" serve --config "$work/config/herald.yaml" >"$work/herald.log" 2>&1 &
    daemon_pid=$!
    for _ in $(seq 1 200); do
        grep -q 'msg="herald ready"' "$work/herald.log" && break
        sleep 0.05
    done
    HERALD_API="http://127.0.0.1:$port"
fi
# Seed a little directory so path parameters sometimes hit records.
auth=(-H "Authorization: Bearer $token" -H 'Content-Type: application/json')
curl -s -o /dev/null -X PUT "$HERALD_API/api/v1/organizations/acme" "${auth[@]}" -d '{"slug":"acme","name":"Acme"}' || true
curl -s -o /dev/null -X PUT "$HERALD_API/api/v1/users/u1" "${auth[@]}" -d '{"organization":"acme","name":"Ann"}' || true
curl -s -o /dev/null -X PUT "$HERALD_API/api/v1/projects/p1" "${auth[@]}" -d '{"organization":"acme","slug":"backend"}' || true
curl -s -o /dev/null -X PATCH "$HERALD_API/api/v1/projects/p1/settings/notifications" "${auth[@]}" \
    -d '{"smsNotifier":5,"emailNotifier":1}' || true
status=0
"$venv/bin/schemathesis" --config-file scripts/schemathesis.toml run openapi.yaml \
    --url "$HERALD_API" \
    --header "Authorization: Bearer $token" \
    --checks all \
    --exclude-checks positive_data_acceptance \
    --max-examples "${MAX_EXAMPLES:-40}" \
    --continue-on-failure \
    --generation-deterministic \
    "$@" || status=$?
if [ -n "$work" ]; then
    # Dead letters are expected: the daemon's notifiers point at the local outbox, which does not run here.
    if grep -E 'level=(error|critical)' "$work/herald.log" | grep -v -e 'request failed' -e 'msg="dead letter"' >/dev/null; then
        echo "errors in the daemon log:"
        grep -E 'level=(error|critical)' "$work/herald.log" | grep -v 'msg="dead letter"' | head -20
    fi
    if grep -q 'INTERNAL_ERROR\|status=5' "$work/herald.log"; then
        echo "5xx answers in the daemon log:"; grep 'http.status=5' "$work/herald.log" | head -20
    fi
fi
exit "$status"
