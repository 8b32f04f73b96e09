#!/usr/bin/env bash
# One command from a fresh clone to a working autobuild: system packages (Debian/Ubuntu, as root
# or through sudo), then `npm ci && npm run build`. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(redis-server docker.io docker-registry buildah busybox-static git apache2-utils chromium)
# docker-compose and systemd (systemd-analyze) check deploy/compose.yml and deploy/autobuild.service.
packages+=(docker-compose systemd)
# qemu-user-static runs RUN steps of foreign platforms; gcc-aarch64-linux-gnu builds the arm64 test program.
packages+=(qemu-user-static gcc-aarch64-linux-gnu)

if command -v apt-get >/dev/null 2>&1; then
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
else
  echo "setup: not a Debian-like system; install these yourself: ${packages[*]}" >&2
fi

npm ci --no-audit --no-fund
npm run build
