#!/usr/bin/env bash
# setup.sh: prepare a Debian 12 machine (as root) to run tracker-backup and its tests.
# Installs the apt packages (Ansible, ansible-runner, linters, Docker engine and compose v1,
# debootstrap, sqlite3, MariaDB client), the npm dependencies, and starts the Docker daemon
# if it is not running. Safe to run again. Needs Node.js 20+ and npm already installed.
set -euo pipefail

readonly APT_PACKAGES=(
  ansible ansible-lint yamllint shellcheck python3-ansible-runner
  docker.io docker-compose debootstrap
  sqlite3 mariadb-client openssh-client file gzip libdeflate-tools tar jq ca-certificates git
  prometheus
)

log() {
  printf '[%s] INFO: %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S')" "$*" >&2
}

die() {
  printf '[%s] ERROR: %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S')" "$*" >&2
  exit 1
}

check_node() {
  command -v node >/dev/null 2>&1 || die "Node.js 20 or newer is required (node not found)"
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  ((major >= 20)) || die "Node.js 20 or newer is required (found $(node --version))"
}

install_apt_packages() {
  local missing=() package
  for package in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  if ((${#missing[@]} == 0)); then
    log "apt packages already installed"
    return 0
  fi
  log "installing apt packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_npm_packages() {
  # npm ci only when the lock file changed since the last install: it deletes node_modules.
  if [[ -f node_modules/.package-lock.json && node_modules/.package-lock.json -nt package-lock.json ]]; then
    log "npm packages already installed"
    return 0
  fi
  log "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
}

start_docker() {
  if docker info >/dev/null 2>&1; then
    log "Docker daemon already running"
    return 0
  fi
  log "starting the Docker daemon"
  # No systemd on CI machines and containers: start dockerd directly, in the background.
  nohup dockerd >/var/log/dockerd.log 2>&1 &
  local waited=0
  until docker info >/dev/null 2>&1; do
    ((waited < 60)) || die "dockerd did not come up within 60 s; see /var/log/dockerd.log"
    sleep 1
    waited=$((waited + 1))
  done
}

main() {
  cd "$(dirname "$0")/.."
  [[ "$(id -u)" == 0 ]] || die "run as root (it installs packages and starts dockerd)"
  check_node
  install_apt_packages
  install_npm_packages
  start_docker
  log "ready"
}

main "$@"
