#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and starts
# Kakao Desk — in demo mode against the bundled Kakao emulator unless
# KAKAO_CLIENT_ID (and the other KAKAO_* variables) are set. Arguments are
# passed to the app.
#
# With a display, the window opens. Without one (CI, a server), the app runs
# under Xvfb, a screenshot of its window is written to the path printed at the
# end, and the app is stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

# Demo mode (the bundled Kakao emulator) unless KAKAO_CLIENT_ID is set.
cargo build --locked --features demo
APP="$PWD/target/debug/kakao-desk"

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec "$APP" "$@"
fi

# Headless: a private display and session bus, then a screenshot. No
# accessibility bus is needed for a screenshot.
export NO_AT_BRIDGE=1
OUT="$PWD/artifacts"
mkdir -p "$OUT"
SHOT="$OUT/kakao-desk-window.png"
LOG="$OUT/kakao-desk-run.log"
rm -f "$SHOT"
exec 3< <(Xvfb -displayfd 1 -screen 0 1280x800x24 -nolisten tcp 2>/dev/null & echo "pid $!")
read -r _ XVFB_PID <&3
read -r DISPLAY_NUMBER <&3
export DISPLAY=":$DISPLAY_NUMBER"
trap 'kill "$XVFB_PID" 2>/dev/null || true' EXIT

dbus-run-session -- bash -c '
  app="$1"; log="$2"; shot="$3"; shift 3
  "$app" "$@" >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do
    grep -q "ui ready" "$log" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { echo "Kakao Desk exited early; see $log"; exit 1; }
    sleep 0.1
  done
  sleep 0.5
  # The window by its title; the whole screen if it cannot be found.
  import -display "$DISPLAY" -window "Kakao Desk" "$shot" 2>/dev/null ||
    import -display "$DISPLAY" -window root "$shot"
  kill "$pid"; wait "$pid" 2>/dev/null || true
' run "$APP" "$LOG" "$SHOT" "$@" 2>>"$OUT/session-bus.log"

echo "No display: Kakao Desk ran under Xvfb. Screenshot of its window: $SHOT"
