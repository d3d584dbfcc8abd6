#!/usr/bin/env bash
# Runs the backend server (README, "Backend mode") with an embedded SQLite
# database in ./target/server/ — one command, no other service.
#
# With KDS_KAKAO_CLIENT_ID set, it serves your Kakao app: the client secret
# from KDS_KAKAO_CLIENT_SECRET or KDS_KAKAO_CLIENT_SECRET_FILE, every other
# setting from KDS_* or the flags you pass (see --help).
# Without it, it starts the bundled Kakao emulator as a confidential client
# app and serves that (demo), printing the values an app needs.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
mkdir -p target/server
export KDS_DATABASE_URL="${KDS_DATABASE_URL:-sqlite:target/server/kakao-desk-server.db}"

if [ -n "${KDS_KAKAO_CLIENT_ID:-}" ]; then
  exec cargo run --locked -q -p kakao-desk-server -- "$@"
fi

cargo build --locked -q -p kakao-emulator -p kakao-desk-server
secret=$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')
log=target/server/emulator.out
: > "$log"
target/debug/kakao-emulator --client-id 6b616b616f2d6465736b2d64656d6f00 \
  --client-secret "$secret" --redirect-uri http://127.0.0.1:41785/oauth/callback >"$log" &
emulator=$!
trap 'kill "$emulator" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q '^listening on ' "$log" && break
  sleep 0.1
done
kakao=$(sed -n 's/^listening on //p' "$log")
[ -n "$kakao" ] || { echo "the emulator did not start" >&2; exit 1; }
echo "demo: the Kakao emulator at $kakao is the Kakao app (client id 6b616b616f2d6465736b2d64656d6f00)" >&2
KDS_KAKAO_CLIENT_ID=6b616b616f2d6465736b2d64656d6f00 KDS_KAKAO_CLIENT_SECRET="$secret" \
  KDS_KAKAO_AUTH_URL="$kakao" KDS_KAKAO_API_URL="$kakao" \
  target/debug/kakao-desk-server "$@"
