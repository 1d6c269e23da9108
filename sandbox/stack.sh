#!/usr/bin/env bash
#
# A sandbox's compose stack (the stand-in tracker, and MariaDB for MySQL) as the Docker
# host sees it, by compose's own labels, whichever compose version started it:
#   stack.sh container SERVICE [FIELD]  the ID (or another `docker ps` field, such as
#                                       Status) of the service's first container
#   stack.sh rows                       the rows in the tracker's torrents table
#                                       (fails while the database cannot be read)
#   stack.sh health                     the mysql service: healthy, starting or
#                                       unhealthy while it runs, else its container's
#                                       state; nothing when it does not exist
#   stack.sh wait                       until the mysql service is healthy and the
#                                       stand-in tracker has written a new row
#   stack.sh remove                     removes the project's containers, networks
#                                       and volumes
#
# Run by scripts/sandbox.sh. Environment: SANDBOX_PROJECT, SANDBOX_DRIVER, SANDBOX_DEPLOY,
# SANDBOX_MYSQL_SERVICE, SANDBOX_MYSQL_DATABASE.
set -euo pipefail

readonly WAIT_SECONDS=60
readonly PROJECT_LABEL="label=com.docker.compose.project=${SANDBOX_PROJECT}"

log() {
  printf '[%s] %s: %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$1" "${*:2}" >&2
}

container() {
  docker ps -a --filter "${PROJECT_LABEL}" --filter "label=com.docker.compose.service=$1" \
    --format "{{.${2:-ID}}}" | head -n 1
}

rows() {
  local id db="${SANDBOX_DEPLOY}/storage/tracker/lib/database/tracker.db"
  if [[ "${SANDBOX_DRIVER}" == sqlite3 ]]; then
    # -readonly: never create the file or take a write lock next to the tracker.
    [[ -f "${db}" ]] || return 1
    sqlite3 -readonly -cmd '.timeout 2000' "${db}" 'SELECT count(*) FROM torrents;' 2>/dev/null
  else
    # As root through the server's unix socket, the only way root can log in.
    id="$(container "${SANDBOX_MYSQL_SERVICE}")"
    [[ -n "${id}" ]] || return 1
    timeout 15 docker exec "${id}" mariadb --user=root --batch --skip-column-names \
      --execute='SELECT count(*) FROM torrents;' "${SANDBOX_MYSQL_DATABASE}" 2>/dev/null
  fi
}

health() {
  local id
  id="$(container "${SANDBOX_MYSQL_SERVICE}")"
  [[ -n "${id}" ]] || return 0
  docker inspect -f '{{if ne .State.Status "running"}}{{.State.Status}}{{else if .State.Health}}{{.State.Health.Status}}{{else}}running{{end}}' "${id}" 2>/dev/null || true
}

# until SERVICE FAILURE PROBE...: runs PROBE every 0.5 s until it succeeds. At the
# deadline, or when PROBE fails with 2 (it never will), shows the end of SERVICE's log
# and fails with FAILURE and what PROBE left in DETAIL.
until_ok() {
  local service="$1" failure="$2" deadline=$((SECONDS + WAIT_SECONDS)) rc
  shift 2
  while true; do
    rc=0
    "$@" || rc=$?
    ((rc != 0)) || return 0
    if ((rc == 2 || SECONDS >= deadline)); then
      docker logs --tail 30 "$(container "${service}")" >&2 || true
      log ERROR "${failure} (${DETAIL})"
      exit 1
    fi
    sleep 0.5
  done
}

mysql_healthy() {
  DETAIL="$(health)"
  [[ "${DETAIL}" != healthy ]] || return 0
  [[ "${DETAIL}" != unhealthy && "${DETAIL}" != exited ]] || return 2
  return 1
}

# Rows left from an earlier run prove nothing: $1 is the count before.
new_rows() {
  DETAIL="tracker: $(container tracker Status)"
  COUNT="$(rows)" || return 1
  [[ "${COUNT}" =~ ^[0-9]+$ ]] && ((COUNT > $1))
}

wait_for_tracker() {
  local initial database="${SANDBOX_DEPLOY}/storage/tracker/lib/database/tracker.db"
  if [[ "${SANDBOX_DRIVER}" == "mysql" ]]; then
    database="database ${SANDBOX_MYSQL_DATABASE} of the ${SANDBOX_MYSQL_SERVICE} service"
    # `compose up -d` already waits for it (depends_on: service_healthy); this also
    # covers a compose that does not, and gives a clear error.
    log INFO "waiting for the ${SANDBOX_MYSQL_SERVICE} service to be healthy"
    until_ok "${SANDBOX_MYSQL_SERVICE}" "the ${SANDBOX_MYSQL_SERVICE} service is not healthy" mysql_healthy
    log INFO "the ${SANDBOX_MYSQL_SERVICE} service is healthy"
  fi
  log INFO "waiting for the stand-in tracker to write ${database}"
  initial="$(rows)" || initial=0
  [[ "${initial}" =~ ^[0-9]+$ ]] || initial=0
  until_ok tracker "no new rows in torrents of ${database} after ${WAIT_SECONDS}s" new_rows "${initial}"
  log INFO "tracker database has ${COUNT} torrents"
}

# Whatever compose did not remove (no compose file any more, a `run --rm` that was
# interrupted, ...).
remove() {
  local kind ids
  local -A remove=([container]="rm -f" [network]="network rm" [volume]="volume rm")
  local -A all=([container]="-a")
  for kind in container network volume; do
    # shellcheck disable=SC2086 # no option at all for networks and volumes
    ids="$(docker "${kind}" ls -q ${all[${kind}]:-} --filter "${PROJECT_LABEL}")"
    [[ -n "${ids}" ]] || continue
    log INFO "removing leftover ${kind}s of ${SANDBOX_PROJECT}"
    # shellcheck disable=SC2086 # the command's words and one id per word are intended
    docker ${remove[${kind}]} ${ids} >/dev/null || log WARN "could not remove some ${kind}s of ${SANDBOX_PROJECT}"
  done
}

case "${1:-}" in
  container) container "${@:2}" ;;
  rows) rows ;;
  health) health ;;
  wait) wait_for_tracker ;;
  remove) remove ;;
  *) log ERROR "usage: stack.sh container SERVICE [FIELD] | rows | health | wait | remove" && exit 2 ;;
esac
