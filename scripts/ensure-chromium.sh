#!/usr/bin/env bash
# Install what the browser tests need if it is missing: Debian's chromium (Playwright drives
# /usr/bin/chromium) and a CJK font, so Chinese UI text renders in screenshots instead of boxes.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || missing+=(fonts-wqy-zenhei)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing Debian packages for the browser tests: ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "error: missing ${missing[*]} and I cannot install without root; run: apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
