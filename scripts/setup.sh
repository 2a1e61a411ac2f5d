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

# System packages: redis-server (the queue's store) and chromium (preview screenshots, browser tests).
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)

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
  else
    say "missing: ${missing[*]}. Install them, then run npm run setup again:"
    if command -v apt-get >/dev/null 2>&1; then
      say "  sudo apt-get install -y ${missing[*]}"
    elif command -v brew >/dev/null 2>&1; then
      say "  brew install ${missing[*]/redis-server/redis}"
    else
      say "  install ${missing[*]} with your system's package manager"
    fi
    say "(or set REDIS_URL to an existing Redis and skip redis-server)"
    exit 1
  fi
fi
say "redis-server: $(redis-server --version | awk '{print $3}')"
say "chromium: $( (chromium --version 2>/dev/null || /usr/bin/chromium --version) | head -1)"

# npm packages: `npm ci` on a clean checkout (exactly the lock), a quick `npm install` otherwise.
if [ ! -d node_modules ] && [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  npm install --no-audit --no-fund
fi
# The CLI bundle: `dispatch` starts faster from dist/ than from the TypeScript sources.
npm run build --silent
say "done. Next: npm start (or npm test)"
