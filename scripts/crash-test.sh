#!/usr/bin/env bash
# The full kill -9 run on the real app (tests/e2e/crash.rs):
#
#   bash scripts/crash-test.sh [KILLS] [SEED]
#
# KILLS defaults to 240 (scripts/test.sh runs 40); SEED replays an earlier
# run's choices of operation and moment. The summary (kills per operation,
# outcomes, torn slots, leaks) is printed at the end and kept in
# target/e2e-artifacts/crash/summary.txt; SECURITY.md has the last figures.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export KAKAO_DESK_CRASH_KILLS="${1:-240}"
if [ -n "${2:-}" ]; then export KAKAO_DESK_CRASH_SEED="$2"; fi
cargo test --locked --test e2e -- --exact \
  crash::the_app_survives_kill_9_during_login_refresh_logout_and_unlink --nocapture
cat target/e2e-artifacts/crash/summary.txt
