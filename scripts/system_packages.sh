#!/usr/bin/env bash
# Installs the Debian packages the tests and `make cluster` start when they are missing: PostgreSQL
# (booking races, the production tracker store), Redis (Rasa's lock store across instances), nginx
# (the load balancer) and Chromium (the web widget, driven by Playwright with executable_path).
# Run as root (CI) or with sudo; does nothing when everything is already there.
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v runuser >/dev/null 2>&1 || need+=(util-linux)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -x /usr/sbin/nginx ] || need+=(nginx)
[ -x /usr/bin/chromium ] || need+=(chromium fonts-dejavu-core)
[ ${#need[@]} -eq 0 ] && exit 0
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "error: root is needed to install: ${need[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "installing Debian packages: ${need[*]}"
$sudo apt-get update
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${need[@]}"
