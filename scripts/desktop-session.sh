#!/usr/bin/env bash
# The one headless desktop of this repository: runs a command in a private
# desktop session, the way the tests, the benchmarks and a display-less
# `scripts/run.sh` all need it.
#
#   scripts/desktop-session.sh [options] [-- COMMAND [ARGS...]]
#
# The session:
#   - a HOME of its own (a fresh temporary one, removed afterwards, unless
#     --home names one to keep) with the XDG data, config and cache dirs in it;
#   - XDG_RUNTIME_DIR, the bus socket and the session's own files in a
#     temporary directory outside HOME, removed afterwards;
#   - Xvfb on a display it picks itself (-displayfd), unless --no-display;
#   - a private D-Bus session bus;
#   - gnome-keyring, unlocked, serving the Secret Service on that bus, unless
#     --no-keyring (then the bus allows no service activation either, so no
#     keyring can be started behind the command's back).
#
# COMMAND runs with the session's environment; the script exits with its
# status. With no COMMAND the session stays up until the script is told to
# stop (TERM, INT, HUP) or its parent process goes away.
#
# The session is one process group (the script makes itself its leader).
# Everything in it is stopped, and its files removed, when COMMAND exits, when
# the script gets TERM, INT or HUP, when the process that started the script
# dies without stopping it, and when the script itself is killed outright (a
# watchdog in the session checks both every half second): a test killed by a
# timeout leaves no Xvfb, bus, keyring or app behind. A caller that kills the
# whole group with KILL leaves only the temporary directory.
#
# Options:
#   --home DIR              use DIR (created if missing) as HOME and keep it
#   --keyring-password PW   unlock (or create) the login keyring with PW
#                           (default: desktop-session); a wrong one leaves an
#                           existing keyring locked
#   --no-keyring            no Secret Service on the bus
#   --no-display            no X display (DISPLAY and WAYLAND_DISPLAY unset)
#   --env-file FILE         once the session is ready, write its environment to
#                           FILE (KEY=VALUE lines, written atomically), for
#                           callers that start more programs in it
#   --log-dir DIR           where the logs of Xvfb, the bus and the keyring go
#                           (default: the session's temporary directory)
set -euo pipefail

# The session is this script's process group, so one signal reaches all of
# it: become a group leader first (setsid does not fork when the caller is
# not one, so the PID, and the caller's handle on it, stay the same).
if [ "$(ps -o pgid= -p $$ | tr -d ' ')" != "$$" ]; then
  exec setsid "$0" "$@"
fi

say() { printf 'desktop-session: %s\n' "$*" >&2; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2; exit 2; }

home="" keep_home=0 password="desktop-session" keyring=1 display=1 env_file="" log_dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --home) home="$2"; keep_home=1; shift 2 ;;
    --keyring-password) password="$2"; shift 2 ;;
    --no-keyring) keyring=0; shift ;;
    --no-display) display=0; shift ;;
    --env-file) env_file="$2"; shift 2 ;;
    --log-dir) log_dir="$2"; shift 2 ;;
    --) shift; break ;;
    -h|--help) usage ;;
    *) say "unknown option $1"; usage ;;
  esac
done

parent=$PPID
state=$(mktemp -d "${TMPDIR:-/tmp}/desktop-session.XXXXXX")
[ -n "$log_dir" ] || log_dir="$state"
mkdir -p "$log_dir"
if [ -z "$home" ]; then
  home="$state/home"
fi
mkdir -p "$home" "$state/runtime"
chmod 0700 "$state/runtime"
home=$(cd "$home" && pwd)

# Every process of the session but this script and the shell named by $1 (the
# caller, which may be a subshell), one per line.
session_pids() {
  pgrep -g "$$" | grep -vx -e "$$" -e "$1" || true
}

# Stops everything the session started (TERM, up to two seconds' grace, then
# KILL), then removes its files.
stop_session() {
  local pids pid alive me=$BASHPID
  pids=$(session_pids "$me")
  for pid in $pids; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 20); do
    alive=0
    for pid in $pids; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in $(session_pids "$me"); do kill -KILL "$pid" 2>/dev/null || true; done
  [ "$keep_home" = 1 ] || rm -rf "$home"
  rm -rf "$state"
}

finish() {
  trap - EXIT
  trap '' TERM INT HUP
  stop_session
}
trap 'finish; exit 143' TERM
trap 'finish; exit 130' INT
trap 'finish; exit 129' HUP
trap finish EXIT

export HOME="$home"
export XDG_DATA_HOME="$home/.local/share"
export XDG_CONFIG_HOME="$home/.config"
export XDG_CACHE_HOME="$home/.cache"
export XDG_RUNTIME_DIR="$state/runtime"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME"
# No accessibility bus in a headless session; no desktop to hand links to.
export NO_AT_BRIDGE=1
unset WAYLAND_DISPLAY SESSION_MANAGER XDG_SESSION_ID XDG_CURRENT_DESKTOP DESKTOP_SESSION
unset DBUS_SESSION_BUS_ADDRESS DISPLAY

if [ "$display" = 1 ]; then
  exec 3< <(Xvfb -displayfd 1 -screen 0 1280x800x24 -nolisten tcp 2>>"$log_dir/xvfb.log" & echo "pid $!")
  read -r _ _xvfb_pid <&3
  if ! read -r -t 30 display_number <&3; then
    say "Xvfb did not start (see $log_dir/xvfb.log)"
    exit 1
  fi
  exec 3<&-
  export DISPLAY=":$display_number"
fi

# The bus: the standard session configuration, or with --no-keyring one that
# activates no services (D-Bus would otherwise start gnome-keyring on demand).
if [ "$keyring" = 1 ]; then
  bus_config=(--session)
else
  cat >"$state/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=$state</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF
  bus_config=(--config-file="$state/bus.conf")
fi
exec 3< <(dbus-daemon "${bus_config[@]}" --nofork --print-address=1 2>>"$log_dir/dbus.log" & echo "pid $!")
read -r _ _bus_pid <&3
if ! read -r -t 30 bus_address <&3; then
  say "dbus-daemon did not start (see $log_dir/dbus.log)"
  exit 1
fi
exec 3<&-
export DBUS_SESSION_BUS_ADDRESS="$bus_address"

bus_has() {
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.ListNames 2>/dev/null | grep -q "\"$1\""
}

if [ "$keyring" = 1 ]; then
  printf '%s' "$password" | gnome-keyring-daemon --foreground --unlock --components=secrets \
    >>"$log_dir/keyring.log" 2>&1 &
  for _ in $(seq 1 200); do
    bus_has org.freedesktop.secrets && break
    sleep 0.1
  done
  if ! bus_has org.freedesktop.secrets; then
    say "gnome-keyring never took org.freedesktop.secrets (see $log_dir/keyring.log)"
    exit 1
  fi
fi

if [ -n "$env_file" ]; then
  {
    for name in HOME XDG_DATA_HOME XDG_CONFIG_HOME XDG_CACHE_HOME XDG_RUNTIME_DIR \
                DBUS_SESSION_BUS_ADDRESS DISPLAY NO_AT_BRIDGE; do
      [ -n "${!name:-}" ] && printf '%s=%s\n' "$name" "${!name}"
    done
  } >"$env_file.tmp"
  mv "$env_file.tmp" "$env_file"
fi

# The watchdog: when the process that started the session is gone, stop
# the session; when this script itself is killed outright, do its cleanup.
(
  trap '' TERM INT HUP
  while kill -0 "$parent" 2>/dev/null && kill -0 "$$" 2>/dev/null; do sleep 0.5; done
  if kill -0 "$$" 2>/dev/null; then
    kill -TERM "$$" 2>/dev/null || true
  else
    stop_session
  fi
) &
disown $!

if [ $# -eq 0 ]; then
  # No command: keep the session up until stopped. `wait` on a sleep keeps
  # the traps responsive.
  while true; do
    sleep 1 &
    wait $! || true
  done
fi

set +e
"$@" &
wait $!
exit $?
