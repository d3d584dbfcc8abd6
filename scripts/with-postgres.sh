#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL server: Debian's PostgreSQL
# binaries, a fresh data directory, a free loopback port; stopped and deleted
# when the command ends. The command finds it in KDS_TEST_POSTGRES_URL (an
# admin URL; the server's tests make a database per test there).
#
#   bash scripts/with-postgres.sh cargo nextest run -p kakao-desk-server
#
# KDS_PG_FSYNC=on keeps fsync on (the load test, so that PostgreSQL's figures
# are durable ones like SQLite's); tests run with it off.
set -euo pipefail

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
  echo "PostgreSQL's server binaries are missing: sudo apt-get install postgresql (scripts/setup.sh does)" >&2
  exit 1
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/kds-postgres.XXXXXX")
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# PostgreSQL refuses to run as root: as root, the server runs as the
# `postgres` user Debian's package creates.
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$dir"
  as_pg=(runuser -u postgres --)
fi

stop() {
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT

"${as_pg[@]}" "$pg_bin/initdb" -D "$dir/data" -U kds -A trust -E UTF8 --no-sync >/dev/null
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=${KDS_PG_FSYNC:-off}" \
  start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data in $dir)" >&2

export KDS_TEST_POSTGRES_URL="postgres://kds@127.0.0.1:$port/postgres"
"$@"
