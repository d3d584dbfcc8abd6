#!/usr/bin/env bash
# Where the release binary's bytes go, per crate (BENCHMARKS.md, "Size"):
# builds the release app exactly as scripts/bench-app.sh does but keeps its
# symbols (a separate target directory, so the stripped build stays), and
# prints cargo-bloat's per-crate table of the .text section. Run
# scripts/setup.sh (or either README command) once first.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

TOOLS=target/tools
if [ ! -x "$TOOLS/bin/cargo-bloat" ]; then
  echo "size: installing cargo-bloat into $TOOLS"
  cargo install --quiet --root "$TOOLS" cargo-bloat --version 0.12.1 --locked
fi
export PATH="$PWD/$TOOLS/bin:$PATH"

# The same build as `npx tauri build` (the custom-protocol feature, the
# release profile, the benchmark's host override), unstripped.
export KAKAO_DESK_ALLOW_HOST_OVERRIDE=1
export CARGO_PROFILE_RELEASE_STRIP=false
export CARGO_TARGET_DIR=target/size
cargo bloat --release --locked -p kakao-desk --bin kakao-desk \
  --features custom-protocol --crates -n "${SIZE_CRATES:-40}" "$@"
