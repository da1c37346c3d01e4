#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL cluster of its own: initdb in a temporary directory (as an
# unprivileged user: PostgreSQL refuses to run as root), postgres on a free loopback port, one database, and
# HERALD_TEST_POSTGRES_URL (plus HERALD_TEST_PGCTL / HERALD_TEST_PGDATA for the restart tests) exported to the
# command. The cluster is stopped and removed when the command ends.
# Usage: scripts/with-postgres.sh [--optional] COMMAND...   (--optional: without PostgreSQL installed, run the
# command anyway; the PostgreSQL tests then skip, printing why)
set -euo pipefail
optional=0
if [ "${1:-}" = "--optional" ]; then optional=1; shift; fi

bindir=""
for candidate in /usr/lib/postgresql/*/bin; do
  [ -x "$candidate/initdb" ] && bindir="$candidate"
done
if [ -z "$bindir" ] && command -v initdb >/dev/null 2>&1; then bindir="$(dirname "$(command -v initdb)")"; fi
if [ -z "$bindir" ]; then
  echo "with-postgres: no PostgreSQL server binaries found (install the postgresql package)" >&2
  if [ "$optional" -eq 1 ]; then exec "$@"; fi
  exit 1
fi

user="$(id -un)"
run_as=()
if [ "$(id -u)" -eq 0 ]; then
  user=herald-pg
  id -u "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
  run_as=(runuser -u "$user" --)
fi

root="$(mktemp -d /tmp/herald-pg.XXXXXX)"
chmod 755 "$root"
data="$root/data"
mkdir -p "$data" "$root/socket"
[ "${#run_as[@]}" -gt 0 ] && chown -R "$user" "$root"

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"

cleanup() {
  "${run_as[@]}" "$bindir/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$root"
}
trap cleanup EXIT INT TERM

"${run_as[@]}" "$bindir/initdb" -D "$data" -U "$user" --auth=trust --encoding=UTF8 --no-locale >"$root/initdb.log" 2>&1 \
  || { cat "$root/initdb.log" >&2; exit 1; }
cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$root/socket'
max_connections = 200
fsync = off                 # throwaway cluster: a clean shutdown still checkpoints; only an OS crash could lose data
full_page_writes = off
shared_buffers = 128MB
log_min_messages = warning
CONF
"${run_as[@]}" "$bindir/pg_ctl" -D "$data" -l "$root/server.log" -w start >/dev/null \
  || { cat "$root/server.log" >&2; exit 1; }
"${run_as[@]}" "$bindir/psql" -h 127.0.0.1 -p "$port" -U "$user" -d postgres -q -c "CREATE DATABASE herald" >/dev/null

export HERALD_TEST_POSTGRES_URL="postgres://$user@127.0.0.1:$port/herald?sslmode=disable"
export HERALD_TEST_PGCTL="${run_as[*]:+${run_as[*]} }$bindir/pg_ctl"
export HERALD_TEST_PGDATA="$data"
echo "with-postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2
"$@"
