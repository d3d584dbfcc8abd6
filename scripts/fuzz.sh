#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ for SECONDS_PER_TARGET seconds (default 60):
#
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET…]
#
# FUZZ_JOBS=2 runs two targets at once (one per core). FUZZ_FRESH=1 starts
# from the committed seeds only (the CI smoke); otherwise each target keeps
# what it learnt in fuzz/corpus/<target>/ (git-ignored) between runs. Inputs
# in fuzz/regressions/<target>/ (crashes once found, then fixed) are replayed
# first. A crash, timeout (>10 s for one input) or OOM (>2 GiB) fails the
# script and leaves the input in fuzz/artifacts/<target>/. SECURITY.md,
# "Fuzzing", has the targets and the figures of the long run.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

SECONDS_PER_TARGET="${1:-60}"
shift || true
ALL=(deep_link loopback_request kakao_answers id_token vault_envelope)
if [ "$#" -gt 0 ]; then TARGETS=("$@"); else TARGETS=("${ALL[@]}"); fi
JOBS="${FUZZ_JOBS:-1}"

# cargo-fuzz drives libFuzzer through rustc's nightly-only sanitizer
# coverage flags.
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz: installing a nightly toolchain"
  rustup toolchain install nightly --profile minimal
fi
TOOLS="$PWD/target/fuzz-tools"
if [ ! -x "$TOOLS/bin/cargo-fuzz" ]; then
  echo "fuzz: installing cargo-fuzz into $TOOLS"
  cargo install --quiet --root "$TOOLS" cargo-fuzz --version 0.13.2 --locked
fi
export PATH="$TOOLS/bin:$PATH"

# The fuzzed code is safe Rust, so AddressSanitizer would find nothing the
# bounds checks do not and would halve the speed: no sanitizer, but debug
# assertions (overflow checks) on, so an unchecked addition is a crash.
FLAGS=(--sanitizer none --debug-assertions)
echo "fuzz: building ${#TARGETS[@]} targets"
cargo +nightly fuzz build "${FLAGS[@]}"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
run_one() {
  local target="$1" corpus="fuzz/corpus/$1"
  [ "${FUZZ_FRESH:-0}" = 1 ] && corpus="$WORK/corpus-$target"
  mkdir -p "$corpus" "fuzz/artifacts/$target"
  local dirs=("$corpus" "fuzz/seeds/$target")
  [ -d "fuzz/regressions/$target" ] && dirs+=("fuzz/regressions/$target")
  local rc=0
  cargo +nightly fuzz run "${FLAGS[@]}" "$target" "${dirs[@]}" -- \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$target/" \
    >"$WORK/$target.log" 2>&1 || rc=$?
  echo "$rc" >"$WORK/$target.rc"
}

for target in "${TARGETS[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
  echo "fuzz: $target for ${SECONDS_PER_TARGET}s"
  run_one "$target" &
done
wait

failed=0
total=0
printf '\n%-18s %14s %10s %8s %s\n' target executions exec/s rss_mb outcome
for target in "${TARGETS[@]}"; do
  log="$WORK/$target.log"
  rc="$(cat "$WORK/$target.rc")"
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  speed="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  rss="$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)"
  outcome=ok
  if [ "$rc" != 0 ]; then
    outcome="FAILED (exit $rc)"
    failed=1
  fi
  printf '%-18s %14s %10s %8s %s\n' "$target" "${execs:-?}" "${speed:-?}" "${rss:-?}" "$outcome"
  total=$((total + ${execs:-0}))
  if [ "$rc" != 0 ]; then
    echo "---- $target: last lines of the libFuzzer log"
    tail -40 "$log"
    ls -l "fuzz/artifacts/$target/" || true
  fi
done
printf '%-18s %14s\n' total "$total"
exit "$failed"
