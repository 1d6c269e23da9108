#!/usr/bin/env bash
# collection.sh: build, install or lint the Ansible collection trackerbackup.tracker_backup.
# The collection is collection/ (galaxy.yml, meta/runtime.yml, README) plus the repository's
# roles/tracker_backup, copied into a staging directory at build time, so no second copy of
# the role is kept in git. Needs ansible-core 2.14+ (ansible-galaxy); lint needs ansible-lint.
# Usage: scripts/collection.sh build [OUTPUT_DIR]         tarball into OUTPUT_DIR (default build/collection); prints its path
#        scripts/collection.sh install [COLLECTIONS_PATH] build, then ansible-galaxy collection install --force into
#                                                         COLLECTIONS_PATH (default: Ansible's first collections path)
#        scripts/collection.sh lint                       ansible-lint (production profile) on the assembled collection
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
readonly ROOT
WORK=""

die() {
  printf '[%s] ERROR: %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S')" "$*" >&2
  exit 2
}

cleanup() {
  [[ -z "$WORK" ]] || rm -rf -- "$WORK"
}

usage() {
  sed -n '6,9p' "$0" | sed 's/^# \{0,1\}//'
}

# The collection's source tree, assembled in $WORK/src.
stage() {
  mkdir "$WORK/src" "$WORK/src/roles"
  cp -R "$ROOT/collection/." "$WORK/src/"
  cp -R "$ROOT/roles/tracker_backup" "$WORK/src/roles/"
}

# Builds into OUT and prints the tarball's path (ansible-galaxy's own message goes to stderr).
build() {
  local out="$1" built
  mkdir -p "$out"
  stage
  built="$(ansible-galaxy collection build --force --output-path "$out" "$WORK/src")"
  printf '%s\n' "$built" >&2
  # "Created collection for NS.NAME at PATH"
  printf '%s\n' "${built##* at }"
}

install() {
  local tarball
  tarball="$(build "$WORK/out")"
  if (($# > 0)); then
    ansible-galaxy collection install --force -p "$1" "$tarball"
  else
    ansible-galaxy collection install --force "$tarball"
  fi
}

lint() {
  stage
  cp "$ROOT/.ansible-lint" "$WORK/src/"
  (cd "$WORK/src" && ansible-lint --offline)
}

main() {
  WORK="$(mktemp -d /tmp/tracker-backup-collection.XXXXXX)"
  trap cleanup EXIT
  local command="${1:-}"
  (($# > 0)) && shift
  case "$command" in
    build) build "$(realpath -m "${1:-$ROOT/build/collection}")" ;;
    install) install "$@" ;;
    lint) lint ;;
    -h | --help) usage ;;
    *)
      usage >&2
      die "expected build, install or lint"
      ;;
  esac
}

main "$@"
