#!/usr/bin/env bash
# The HTTP benchmark loads the server with Debian's wrk; install it when missing and we are root.
set -euo pipefail
if command -v wrk >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's wrk for the HTTP benchmark..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
else
  echo "wrk is missing and we are not root: install it with apt-get install wrk." >&2
  exit 1
fi
