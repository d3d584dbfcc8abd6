#!/usr/bin/env bash
# Runs the core microbenchmarks (crates/kakao-desk-core/benches/core) and
# prints a Markdown table of their medians against the project's goal (BENCHMARKS.md): each
# core operation ≤ 1 ms median.
#
#   scripts/bench-core.sh                        # every benchmark
#   scripts/bench-core.sh vault                  # only ids matching "vault"
#   scripts/bench-core.sh --measurement-time 10  # longer runs
#
# Arguments go to criterion. Only benchmarks measured by this run are listed,
# from criterion's target/criterion/<id>/new/{benchmark,estimates}.json.
# A goal not met is reported, never a failure: benchmarks do not fail for
# being slow. The script fails only if the benchmarks fail to build or run,
# or if a password-based KDF enters the core's dependency tree.
#
# There is no password-based key derivation anywhere on the login or start-up
# path: the vault key is 32 random bytes from the OS RNG kept in the OS
# keychain (or an opt-in key file), and the session JWT key is HKDF-SHA256 of
# it. Nothing is derived from a password, so argon2/scrypt/PBKDF2/bcrypt have
# no place in the core; the check below keeps it that way.
set -euo pipefail
cd "$(dirname "$0")/.."

# Every edge (normal, build, dev) on every target platform.
tree=$(cargo tree --locked -p kakao-desk-core --target all --prefix none --format '{p}')
kdf=$(grep -Ei '^(argon2|rust-argon2|scrypt|pbkdf2|bcrypt|password-hash|balloon-hash|yescrypt)[[:space:]]' \
  <<<"$tree" | sort -u || true)
if [[ -n "$kdf" ]]; then
  echo "error: a password-based key derivation crate is in kakao-desk-core's tree:" >&2
  echo "$kdf" >&2
  exit 1
fi

target_dir=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
marker=$(mktemp)
trap 'rm -f "$marker"' EXIT

cargo bench --locked -p kakao-desk-core --bench core -- "$@"

echo
python3 - "$target_dir/criterion" "$marker" <<'PY'
import json
import os
import sys

root, marker = sys.argv[1], sys.argv[2]
since = os.path.getmtime(marker)
GOAL_NS = 1_000_000  # each core operation ≤ 1 ms median (BENCHMARKS.md)


def human(ns):
    for unit, scale in (("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


rows = []
for directory, _, files in os.walk(root):
    if os.path.basename(directory) != "new" or "estimates.json" not in files:
        continue
    estimates_path = os.path.join(directory, "estimates.json")
    if os.path.getmtime(estimates_path) < since:
        continue  # measured by an earlier run, or a benchmark since removed
    with open(estimates_path) as f:
        median = json.load(f)["median"]
    with open(os.path.join(directory, "benchmark.json")) as f:
        full_id = json.load(f)["full_id"]
    ci = median["confidence_interval"]
    rows.append((os.path.getmtime(estimates_path), full_id, median["point_estimate"],
                 ci["lower_bound"], ci["upper_bound"]))

if not rows:
    sys.exit("error: no benchmark results were written by this run")

print("| Operation | Median | 95% CI of the median | Goal | Met |")
print("|---|---:|---:|---|---|")
for _, full_id, point, low, high in sorted(rows):
    met = "met" if point <= GOAL_NS else "not met"
    print(f"| `{full_id}` | {human(point)} | {human(low)} – {human(high)} | ≤ 1 ms | {met} |")
PY
