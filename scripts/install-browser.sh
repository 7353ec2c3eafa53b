#!/usr/bin/env bash
# Installs Debian's Chromium and a CJK font for the browser tests (playwright-core drives
# /usr/bin/chromium; it never downloads a browser). Without fonts-wqy-zenhei Chinese renders as
# boxes. As root, after apt-get update; does nothing when both are there.
set -euo pipefail
if [ -x /usr/bin/chromium ] && dpkg -s fonts-wqy-zenhei >/dev/null 2>&1; then
  exit 0
fi
echo "== installing chromium and fonts-wqy-zenhei from Debian" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq chromium fonts-wqy-zenhei >&2
