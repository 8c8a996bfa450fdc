#!/usr/bin/env bash
# The browser tests drive Debian's chromium; install it when missing and we are root.
# On CI (CI set, and not 0/false/no) a missing chromium is an error, not a skipped test.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
else
  case "$(printf '%s' "${CI:-}" | tr '[:upper:]' '[:lower:]')" in
    "" | 0 | false | no)
      echo "chromium is missing and we are not root: the browser tests will be skipped." >&2
      ;;
    *)
      echo "chromium is missing, we are not root, and CI is set: the browser tests cannot run." >&2
      echo "Install chromium in the CI image (apt-get install chromium) or run this as root." >&2
      exit 1
      ;;
  esac
fi
