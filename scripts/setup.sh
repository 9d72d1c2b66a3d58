#!/usr/bin/env bash
# Installs what the dashboard, its local cluster and its tests need: Debian's etcd, etcdctl, Chromium and the libraries
# PostgreSQL needs (with apt-get when run as root, otherwise it prints the command), and the npm packages (npm ci).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || need+=(etcd-client)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# Playwright drives Debian's Chromium: it must never download a browser of its own.
[ -x /usr/bin/chromium ] || need+=(chromium)
# The pages ship their own typefaces; the symbols they lack (★ ⊘ ⚠ ✕) come from DejaVu, which a bare machine may not have.
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || need+=(fonts-dejavu-core)
# The shared-store tests run PostgreSQL 15: the machine's own, or Debian's package unpacked into the cache
# (scripts/lib/postgres.ts), which needs these libraries. Installing postgresql-15 itself would start a system server.
if [ ! -x /usr/lib/postgresql/15/bin/postgres ]; then
  for lib in libicu72 libxml2 libldap-2.5-0 libgssapi-krb5-2 libpq5 libssl3; do
    dpkg -s "$lib" >/dev/null 2>&1 || need+=("$lib")
  done
fi

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "setup: installing ${need[*]} with apt-get"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
  else
    echo "setup: missing system packages: ${need[*]}" >&2
    echo "setup: install them with:  sudo apt-get update && sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
fi

# npm ci when node_modules is missing or older than the lockfile.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
fi
