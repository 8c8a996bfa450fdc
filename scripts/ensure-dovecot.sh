#!/usr/bin/env bash
# The inbound-mail tests run a throw-away Debian dovecot (IMAP over TLS on loopback); install
# dovecot-imapd when missing and we are root. On CI (CI set, and not 0/false/no) a missing
# dovecot is an error, not a skipped test.
set -euo pipefail
if command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's dovecot-imapd for the inbound mail tests..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # The package's own service is not wanted: the tests start their own instances.
  apt-get install -y -qq --no-install-recommends dovecot-imapd >/dev/null
  if command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now dovecot >/dev/null 2>&1 || true
  fi
else
  case "$(printf '%s' "${CI:-}" | tr '[:upper:]' '[:lower:]')" in
    "" | 0 | false | no)
      echo "dovecot is missing and we are not root: the IMAP tests will be skipped." >&2
      ;;
    *)
      echo "dovecot is missing, we are not root, and CI is set: the IMAP tests cannot run." >&2
      echo "Install dovecot-imapd in the CI image or run this as root." >&2
      exit 1
      ;;
  esac
fi
