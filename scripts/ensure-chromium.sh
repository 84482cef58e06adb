#!/usr/bin/env bash
# Makes sure the headless browser the console's browser tests drive is installed (npm's `pretest` runs it).
# Herald's tests use Debian's `chromium` package through playwright-core (no browser download from a CDN).
# - Already there (HERALD_CHROMIUM, default /usr/bin/chromium): nothing to do.
# - Missing, and we may install (root, or sudo without a password): apt-get install chromium.
# - Missing, and we may not: fail with one line saying what to install. Never skip the tests silently.
set -euo pipefail

CHROMIUM="${HERALD_CHROMIUM:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
  exit 0
fi

if [ "$CHROMIUM" != /usr/bin/chromium ]; then
  echo "ensure-chromium: HERALD_CHROMIUM=$CHROMIUM is not an executable file" >&2
  exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  echo "ensure-chromium: /usr/bin/chromium is missing; install it (Debian/Ubuntu: sudo apt-get install chromium) or set HERALD_CHROMIUM to a Chromium binary, then run the tests again" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: /usr/bin/chromium is missing and this system has no apt-get; install Chromium and set HERALD_CHROMIUM to its path" >&2
  exit 1
fi

echo "ensure-chromium: installing Debian's chromium for the console's browser tests (once)..." >&2
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq >&2
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium >&2

if [ ! -x "$CHROMIUM" ]; then
  echo "ensure-chromium: apt-get finished but $CHROMIUM is still missing; install the chromium package by hand" >&2
  exit 1
fi
echo "ensure-chromium: $("$CHROMIUM" --version 2>/dev/null || echo chromium) installed" >&2
