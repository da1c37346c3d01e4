#!/usr/bin/env bash
# Installs the PyPI tools the tests use (pinned in scripts/requirements-test.txt): the JSON Schema validator
# that checks rendered Teams and PagerDuty payloads. Safe to run again; does nothing when already present.
set -euo pipefail
cd "$(dirname "$0")/.."
if python3 -c 'import jsonschema' >/dev/null 2>&1; then
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if ! command -v python3 >/dev/null 2>&1 || ! python3 -m pip --version >/dev/null 2>&1; then
  echo "installing: python3 python3-pip"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3 python3-pip
fi
echo "installing: $(tr '\n' ' ' < scripts/requirements-test.txt)"
# Debian marks its Python as externally managed (PEP 668); the pinned test tool goes beside it.
python3 -m pip install --quiet -r scripts/requirements-test.txt \
  || $sudo python3 -m pip install --quiet --break-system-packages -r scripts/requirements-test.txt
