#!/usr/bin/env bash
# npm run setup: installs what this machine lacks for Dispatch, then the npm packages.
# Idempotent: when everything is present it only runs a quick `npm install`.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*"; }

node_major=$(node -p 'process.versions.node.split(".")[0]')
node_minor=$(node -p 'process.versions.node.split(".")[1]')
if [ "$node_major" -lt 20 ] || { [ "$node_major" -eq 20 ] && [ "$node_minor" -lt 19 ]; }; then
  say "Node.js >= 20.19 is required (found $(node --version)); install it from https://nodejs.org"
  exit 1
fi

# System packages: redis-server (the queue's store), chromium (preview screenshots, browser
# tests) and SpamAssassin (`dispatch check` scores each issue with a local spamd, io/spamd.ts).
# SpamAssassin's rules ship in the spamassassin package (/usr/share/spamassassin): no sa-update is
# needed, and none runs (Debian's daily update is off unless enabled), so scoring works offline.
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
# spamd lives in /usr/sbin, which is not on a normal user's PATH.
spamd_bin=$(command -v spamd 2>/dev/null || echo /usr/sbin/spamd)
spam_missing=0
if [ ! -x "$spamd_bin" ] || ! command -v spamc >/dev/null 2>&1 || ! command -v spamassassin >/dev/null 2>&1; then
  missing+=(spamassassin spamc spamd)
  spam_missing=1
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing ${missing[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    # A fresh machine may have no package lists yet: try the install, update once if it fails.
    if ! apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/dispatch-apt.log 2>&1; then
      apt-get update >>/tmp/dispatch-apt.log 2>&1
      apt-get install -y --no-install-recommends "${missing[@]}" >>/tmp/dispatch-apt.log 2>&1 || {
        say "apt-get install ${missing[*]} failed; its log is /tmp/dispatch-apt.log"
        exit 1
      }
    fi
    # Debian's spamd package enables a system-wide spamd (port 783); Dispatch starts its own.
    if [ "$spam_missing" -eq 1 ] && [ -d /run/systemd/system ] && systemctl is-enabled --quiet spamd 2>/dev/null; then
      systemctl disable --now spamd >>/tmp/dispatch-apt.log 2>&1 && say "disabled the system spamd service the package enabled (Dispatch runs its own)"
    fi
  else
    say "missing: ${missing[*]}. Install them, then run npm run setup again:"
    if command -v apt-get >/dev/null 2>&1; then
      say "  sudo apt-get install -y ${missing[*]}"
    elif command -v brew >/dev/null 2>&1; then
      # Homebrew: redis-server is in redis, spamc and spamd in spamassassin.
      brew_names=$(printf '%s\n' "${missing[@]}" | sed -e 's/^redis-server$/redis/' -e 's/^spamc$//' -e 's/^spamd$//' | xargs)
      say "  brew install ${brew_names}"
    else
      say "  install ${missing[*]} with your system's package manager"
    fi
    case " ${missing[*]} " in *" redis-server "*) say "(or set REDIS_URL to an existing Redis and skip redis-server)" ;; esac
    exit 1
  fi
fi
say "redis-server: $(redis-server --version | awk '{print $3}')"
say "chromium: $( (chromium --version 2>/dev/null || /usr/bin/chromium --version) | head -1)"
spamd_bin=$(command -v spamd 2>/dev/null || echo /usr/sbin/spamd)
say "spamassassin: $("$spamd_bin" --version | awk 'NR == 1 {print $NF}') (spamd $spamd_bin, rules from the package)"

# npm packages: `npm ci` on a clean checkout (exactly the lock), a quick `npm install` otherwise.
if [ ! -d node_modules ] && [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  npm install --no-audit --no-fund
fi
# The CLI bundle: `dispatch` starts faster from dist/ than from the TypeScript sources.
npm run build --silent
say "done. Next: npm start (or npm test)"
