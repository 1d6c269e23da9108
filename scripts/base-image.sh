#!/usr/bin/env bash
#
# Ensures the local Docker image debian:SUITE-slim exists (SUITE: bookworm, the
# default, or trixie), which every sandbox and controller image is built FROM.
#
# Why: no container registry is reachable from these machines, so `docker pull`
# cannot provide a base image. Instead a minimal Debian root filesystem is built
# with debootstrap (Debian's package mirror IS reachable) and imported. The rootfs
# tarball is cached so a later import (e.g. after `docker system prune`) does not
# have to debootstrap again.
#
# Where to run: on the Docker host, as root (debootstrap needs root).
# Needs: docker (daemon running), debootstrap, tar, flock.
#
# Environment:
#   TRACKER_BACKUP_CACHE  cache directory for the rootfs tarball
#                         (default /var/cache/tracker-backup)
#
# Usage: scripts/base-image.sh [bookworm|trixie]
set -euo pipefail

# Set by main from the argument.
SUITE=""
IMAGE=""
CACHE_DIR="${TRACKER_BACKUP_CACHE:-/var/cache/tracker-backup}"
TARBALL=""
WORK_DIR=""

log() {
  printf '[%s] INFO: %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$*" >&2
}

die() {
  printf '[%s] ERROR: %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$*" >&2
  exit 1
}

usage() {
  cat >&2 <<'EOF'
Usage: scripts/base-image.sh [bookworm|trixie]

Ensures the local Docker image debian:SUITE-slim exists (SUITE defaults to
bookworm). Builds it with debootstrap when missing, caching the rootfs tarball in
${TRACKER_BACKUP_CACHE:-/var/cache/tracker-backup}/debian-SUITE-minbase.tar.
EOF
}

cleanup() {
  if [[ -n "${WORK_DIR}" && -d "${WORK_DIR}" ]]; then
    rm -rf -- "${WORK_DIR}"
  fi
}

require_commands() {
  local cmd
  for cmd in "$@"; do
    command -v "${cmd}" >/dev/null 2>&1 || die "required command not found: ${cmd}"
  done
}

image_exists() {
  docker image inspect "${IMAGE}" >/dev/null 2>&1
}

build_tarball() {
  require_commands debootstrap
  [[ "$(id -u)" -eq 0 ]] || die "debootstrap needs root; run as root"

  # The work dir lives inside the cache dir so the final mv is a rename on the
  # same filesystem: a reader sees either no tarball or a complete one.
  WORK_DIR="$(mktemp -d "${CACHE_DIR}/.build.XXXXXX")"
  trap cleanup EXIT

  log "debootstrapping ${SUITE} (minbase) into ${WORK_DIR}/rootfs; this takes a minute or two"
  debootstrap --variant=minbase "${SUITE}" "${WORK_DIR}/rootfs" >&2

  # Drop the package lists so the base image stays small; every Dockerfile runs
  # apt-get update before installing anyway.
  rm -rf "${WORK_DIR}/rootfs/var/lib/apt/lists/"* "${WORK_DIR}/rootfs/var/cache/apt/archives/"*.deb

  log "writing rootfs tarball"
  tar --numeric-owner -C "${WORK_DIR}/rootfs" -cf "${WORK_DIR}/rootfs.tar" .
  mv -f "${WORK_DIR}/rootfs.tar" "${TARBALL}"
  rm -rf -- "${WORK_DIR}"
  WORK_DIR=""
  log "cached rootfs tarball at ${TARBALL}"
}

import_tarball() {
  log "importing ${TARBALL} as ${IMAGE}"
  # The official image's default command is bash; keep that so `docker run -it` works.
  docker import --change 'CMD ["bash"]' "${TARBALL}" "${IMAGE}" >/dev/null
}

main() {
  case "${1:-}" in
    -h | --help) usage; return 0 ;;
    "" | bookworm) SUITE="bookworm" ;;
    trixie) SUITE="trixie" ;;
    *) usage; die "unsupported suite: $1 (use bookworm or trixie)" ;;
  esac
  (($# <= 1)) || { usage; die "unexpected argument: $2"; }
  IMAGE="debian:${SUITE}-slim"
  TARBALL="${CACHE_DIR}/debian-${SUITE}-minbase.tar"

  require_commands docker tar flock
  docker info >/dev/null 2>&1 || die "cannot reach the Docker daemon (is dockerd running?)"

  # Fast path: nothing to do, no lock, no filesystem writes.
  if image_exists; then
    log "${IMAGE} already present"
    return 0
  fi

  mkdir -p "${CACHE_DIR}"
  # Serialise concurrent callers (e.g. parallel test runs) so only one of them
  # debootstraps; the others wait and then find the image. One lock for every
  # suite: two debootstraps at once would only compete for the same disk.
  exec 9>"${CACHE_DIR}/.base-image.lock"
  flock 9
  if image_exists; then
    log "${IMAGE} was created by a concurrent run"
    return 0
  fi

  if [[ -s "${TARBALL}" ]]; then
    log "reusing cached rootfs tarball ${TARBALL}"
  else
    build_tarball
  fi
  import_tarball
  log "${IMAGE} ready"
}

main "$@"
