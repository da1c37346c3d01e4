#!/usr/bin/env bash
# Installs the system packages Herald builds against (Debian/Ubuntu). Safe to run again.
set -euo pipefail
packages=(libcurl4-openssl-dev libsqlite3-dev pkg-config)
# Tests: the container-layout start-up (namespaces, health check) and the PyPI tools' virtual environment.
packages+=(util-linux iproute2 procps curl python3-venv)
# Tests: promtool (Debian's prometheus package) for `promtool check metrics` and `promtool check rules`.
packages+=(prometheus)
# Tests: a throwaway PostgreSQL cluster (scripts/with-postgres.sh) for the PostgreSQL store.
packages+=(postgresql)
# Tests: the preference center in a real browser (headless Chromium driven over WebDriver by chromedriver).
packages+=(chromium chromium-driver)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
bash "$(dirname "$0")/install-test-tools.sh"
if ! command -v swift >/dev/null 2>&1; then
  echo "swift is not on PATH: install the Swift 6 toolchain (https://www.swift.org/install/linux/)" >&2
  exit 1
fi
bash "$(dirname "$0")/install-python-tools.sh"
