#!/usr/bin/env bash
#
# Builds the images a sandbox needs from the build contexts beside this script: the
# target for its OS (target/; trixie with docker-cli and the compose v2 plugin), the
# stand-in tracker (tracker/) and, for MySQL, MariaDB (mariadb/), on the debootstrapped
# base images (scripts/base-image.sh). For the deployer layout it tags the deployer's
# image names from the stand-ins, so that compose never pulls.
#
# Usage: sandbox/images.sh bookworm|trixie sqlite3|mysql standard|deployer LOG_DIR
# (run by scripts/sandbox.sh up). Prints the target image's name on stdout; the full
# build logs are kept in LOG_DIR, only the tail of a failed one is shown. The compose
# files under standard/ and deployer/ name the other images.
set -euo pipefail

CONTEXTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly CONTEXTS
readonly TARGET_REPOSITORY="tracker-backup-sandbox/target" # tagged with the OS
readonly TRACKER_IMAGE="tracker-backup-sandbox/tracker:latest"
readonly MARIADB_IMAGE="tracker-backup-sandbox/mariadb:latest"

log() {
  printf '[%s] %s: %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$1" "${*:2}" >&2
}

# build_image TAG CONTEXT [--build-arg NAME=VALUE ...]
build_image() {
  local tag="$1" build_log="${LOG_DIR}/build-$2.log" context="${CONTEXTS}/$2"
  shift 2
  log INFO "building ${tag}"
  docker build "$@" -t "${tag}" "${context}" >"${build_log}" 2>&1 && return 0
  tail -n 40 "${build_log}" >&2
  log ERROR "docker build of ${tag} failed; full log: ${build_log}"
  exit 1
}

main() {
  local os="$1" driver="$2" layout="$3" target="${TARGET_REPOSITORY}:$1"
  LOG_DIR="$4"
  # The tracker and MariaDB stand-ins are bookworm-based whatever the target runs.
  "${CONTEXTS}/../scripts/base-image.sh" >&2
  if [[ "${os}" == "trixie" ]]; then
    "${CONTEXTS}/../scripts/base-image.sh" trixie >&2
    build_image "${target}" target \
      --build-arg BASE_IMAGE=debian:trixie-slim --build-arg "DOCKER_PACKAGES=docker-cli docker-compose"
  else
    build_image "${target}" target
  fi
  build_image "${TRACKER_IMAGE}" tracker
  [[ "${driver}" != "mysql" ]] || build_image "${MARIADB_IMAGE}" mariadb
  # Every rebuild leaves the previous image untagged (several hundred MB); images
  # still used by a container are kept by prune.
  docker image prune -f --filter "label=tracker-backup-sandbox.image" >/dev/null
  if [[ "${layout}" == deployer ]]; then
    docker tag "${TRACKER_IMAGE}" torrust/tracker:develop
    docker tag "${TRACKER_IMAGE}" torrust/tracker-backup:latest
    [[ "${driver}" != "mysql" ]] || docker tag "${MARIADB_IMAGE}" mysql:8.4
  fi
  printf '%s\n' "${target}"
}

main "$@"
