#!/usr/bin/env bash
# The README's second command: installs what is missing, then runs every check
# and test: formatting, clippy (-D warnings), unit and integration tests of all
# crates, the end-to-end tests in a real WebKitGTK window (the kill -9 test
# among them, with 40 kills), doc tests, and a short fuzzing smoke.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "rustfmt"
cargo fmt --all -- --check
cargo fmt --manifest-path fuzz/Cargo.toml -- --check

step "architecture: the login core does not depend on Tauri"
if cargo tree --locked -p kakao-desk-core -e normal,build --prefix none | grep -E '^tauri' ; then
  echo "kakao-desk-core must not depend on tauri (see ARCHITECTURE.md)" >&2
  exit 1
fi
echo "ok: no tauri crate in kakao-desk-core's dependency tree"

step "architecture: the modules of each crate form a downward order (no import cycles)"
for src in crates/kakao-desk-core/src crates/kakao-emulator/src crates/kakao-desk-server/src src-tauri/src; do
  python3 scripts/check-module-graph.py "$src"
done

# Every debug build has the demo emulator; the release-only code without it
# is a few lines, compiled by the packaging test's release build.
step "clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "actionlint (release workflow)"
target/tools/bin/actionlint .github/workflows/*.yml
echo "ok: workflows pass actionlint"

step "UI and release-workflow tests (node)"
node --test ui/ tests/release/

# The backend server's suite runs on SQLite and, beside a throwaway
# PostgreSQL server, on PostgreSQL; KDS_REQUIRE_POSTGRES makes a missing
# server a failure rather than a skip.
step "tests (unit, integration on SQLite and PostgreSQL, end-to-end with 40 kill -9 restarts, packaging)"
KDS_REQUIRE_POSTGRES=1 bash scripts/with-postgres.sh \
  cargo nextest run --workspace --locked --profile "${NEXTEST_PROFILE:-ci}"

step "doc tests"
cargo test --workspace --doc --locked

step "fuzz smoke (every target builds and runs its seeds and a few seconds more)"
FUZZ_FRESH=1 bash scripts/fuzz.sh 5
