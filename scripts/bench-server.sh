#!/usr/bin/env bash
# The backend server's load test on both databases (BENCHMARKS.md, "Backend
# server"): concurrent first logins and refresh rotations against the server
# and the Kakao emulator on loopback, at 1, 8 and 64 clients. PostgreSQL is a
# throwaway server with fsync on, so both databases report durable writes.
#
#   bash scripts/bench-server.sh [--clients 1,8,64] [--logins 256] [--cap-secs 60]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --locked -p kakao-desk-server --bench load --no-run
echo "## SQLite"
cargo bench --locked -q -p kakao-desk-server --bench load -- "$@"
echo "## PostgreSQL"
KDS_PG_FSYNC=on bash scripts/with-postgres.sh \
  cargo bench --locked -q -p kakao-desk-server --bench load -- "$@"
