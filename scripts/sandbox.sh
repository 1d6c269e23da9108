#!/usr/bin/env bash
#
# Creates, inspects and removes local "sandbox targets": Debian containers that
# Ansible reaches over real SSH on 127.0.0.1, each holding a pre-existing Torrust
# tracker deployment (a stand-in tracker writing a live SQLite database, or with
# --driver mysql a live MariaDB database in a `mysql` service) that the backup
# tooling can be installed on and tested against.
#
# Where to run: on the Docker host, as root, from anywhere inside the repository.
# Needs: docker (daemon running), docker-compose (v1 or v2 as `docker-compose`,
# only for `down` when the target is gone), ssh, ssh-keygen, sqlite3, python3,
# flock, debootstrap (only the first time, see scripts/base-image.sh).
#
# Usage: scripts/sandbox.sh up [NAME] [--driver sqlite3|mysql] [--os bookworm|trixie] [--layout standard|deployer]
#        scripts/sandbox.sh down|status [NAME]      (see usage() or --help)
#
# Environment:
#   TRACKER_BACKUP_SANDBOX_ROOT   state directory root (default /srv/tracker-backup-sandbox)
#   TRACKER_BACKUP_ENV_DIR        where `up` writes the environment file
#                                 (default: envs/ at the repository root)
#   TRACKER_BACKUP_CACHE          base image cache (see scripts/base-image.sh)
#   TRACKER_BACKUP_SANDBOX_DRIVER database driver of a new sandbox when --driver
#                                 is not given: sqlite3 (default) or mysql
#   TRACKER_BACKUP_SANDBOX_OS     target OS of a new sandbox when --os is not
#                                 given: bookworm (default) or trixie
#   TRACKER_BACKUP_SANDBOX_STANDIN_INTERVAL
#                                 seconds between the stand-in tracker's writes
#                                 in a new sandbox (default 0.2; benchmarks that
#                                 run several sandboxes at once raise it)
#   TRACKER_BACKUP_SANDBOX_MYSQL_PASSWORD
#                                 tracker_user's MySQL password of a new mysql
#                                 sandbox (default: a deliberately hostile one,
#                                 see DEFAULT_MYSQL_PASSWORD)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(dirname "${SCRIPT_DIR}")"
readonly SCRIPT_DIR REPO_ROOT
# Tagged with the target's OS (see resolve_choices).
readonly TARGET_REPOSITORY="tracker-backup-sandbox/target"
readonly TRACKER_IMAGE="tracker-backup-sandbox/tracker:latest"
readonly MARIADB_IMAGE="tracker-backup-sandbox/mariadb:latest"
readonly SSH_USER="torrust"
readonly SSH_HOST="127.0.0.1"
readonly SSH_WAIT_SECONDS=60
readonly DB_WAIT_SECONDS=60
readonly LABEL_PREFIX="tracker-backup-sandbox"
readonly MYSQL_SERVICE="mysql"
readonly MYSQL_DATABASE="torrust_tracker"
readonly MYSQL_USER="tracker_user"
readonly MYSQL_PORT=3306
# Quotes, a command substitution, backticks, spaces, a backslash and an Ansible
# template: whatever passes this password along unescaped breaks (or runs
# `touch /tmp/pwned`), so the default exercises every layer that handles it.
# shellcheck disable=SC2016 # nothing here is meant to expand
readonly DEFAULT_MYSQL_PASSWORD='p'\''"$(touch /tmp/pwned) `id` sp ace\back{{x}}'

STANDIN_INTERVAL="${TRACKER_BACKUP_SANDBOX_STANDIN_INTERVAL:-0.2}"
[[ "${STANDIN_INTERVAL}" =~ ^[0-9]+(\.[0-9]+)?$ ]] \
  || { echo "TRACKER_BACKUP_SANDBOX_STANDIN_INTERVAL must be a number of seconds" >&2; exit 2; }
readonly STANDIN_INTERVAL

# Set by init_paths.
NAME=""
SANDBOX_ROOT=""
STATE=""
DEPLOY=""
KEY=""
CONTAINER=""
PROJECT=""
ENV_NAME=""
ENV_FILE=""
DB_FILE=""
DRIVER_FILE=""
OS_FILE=""
MYSQL_PASSWORD_FILE=""
# Set by ensure_mysql_password / load_mysql_password (mysql sandboxes only).
MYSQL_PASSWORD=""
# sqlite3 or mysql: requested by --driver / TRACKER_BACKUP_SANDBOX_DRIVER
# (REQUESTED_DRIVER, empty when neither is given), then settled by
# resolve_choices from what an existing sandbox was created with.
REQUESTED_DRIVER=""
DRIVER=""
# bookworm or trixie, the same way from --os / TRACKER_BACKUP_SANDBOX_OS.
REQUESTED_OS=""
OS=""
TARGET_IMAGE=""
# Set once the target's SSH port is known.
PORT=""
# standard or deployer: requested by --layout (empty when not given), then settled by
# resolve_layout from what an existing sandbox was created with.
REQUESTED_LAYOUT=""
LAYOUT=""

log() {
  printf '[%s] INFO: %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$*" >&2
}

warn() {
  printf '[%s] WARN: %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$*" >&2
}

die() {
  printf '[%s] ERROR: %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$*" >&2
  exit 1
}

usage() {
  cat <<'EOF'
Usage:
  scripts/sandbox.sh up [NAME] [--driver sqlite3|mysql] [--os bookworm|trixie]
                                    [--layout standard|deployer]
                                    create or reuse sandbox NAME and print the path
                                    of its environment file (last line of stdout)
  scripts/sandbox.sh down [NAME]    remove sandbox NAME completely
  scripts/sandbox.sh status [NAME]  show target, SSH and tracker state
                                    (exit 0 only when target and tracker are up)
  scripts/sandbox.sh --help

NAME defaults to "default" and may contain a-z, 0-9 and "-" (not first).
The environment file is envs/sandbox.json for NAME=default and
envs/sandbox-NAME.json otherwise.

--driver picks the tracker's database when the sandbox is created: sqlite3
(default; a SQLite file written by the stand-in tracker) or mysql (a MariaDB
`mysql` service on database_network, database torrust_tracker, user
tracker_user). An existing sandbox keeps its driver; asking for the other one
is an error (run `down` first).

--os picks the target's Debian release the same way: bookworm (default; the
docker.io client and compose v1) or trixie (docker-cli and the compose v2
plugin, like the deployer's Ubuntu hosts).

--layout deployer lays the deploy directory and the target out as the Torrust
Tracker Deployer v0.1.0 leaves a host with backups enabled (sandbox/deployer/:
its compose file with x-defaults, container_name and its own backup service,
the sourced 0644 backup.conf, its cron file and maintenance script, a 0644 log,
legacy backups without manifests). container_name values get the prefix
"tbsandbox-NAME-" so that two such sandboxes can share the Docker daemon. Like
the driver, an existing sandbox keeps its layout.

Environment:
  TRACKER_BACKUP_SANDBOX_ROOT    state root (default /srv/tracker-backup-sandbox)
  TRACKER_BACKUP_ENV_DIR         environment file directory (default <repo>/envs)
  TRACKER_BACKUP_CACHE           base image cache (default /var/cache/tracker-backup)
  TRACKER_BACKUP_SANDBOX_DRIVER  driver when --driver is not given (sqlite3|mysql)
  TRACKER_BACKUP_SANDBOX_OS      target OS when --os is not given (bookworm|trixie)
  TRACKER_BACKUP_SANDBOX_MYSQL_PASSWORD
                                 tracker_user's password for a new mysql sandbox
                                 (default: a hostile one with quotes, $(...),
                                 backticks, spaces, a backslash and {{x}})
EOF
}

require_commands() {
  local cmd
  for cmd in "$@"; do
    command -v "${cmd}" >/dev/null 2>&1 || die "required command not found: ${cmd}"
  done
}

# Paths end up unquoted in `docker run -v SRC:DST` (where ':' and ',' are
# separators) and verbatim in JSON, so they are limited to a safe character set
# instead of being escaped in two different syntaxes.
check_safe_path() {
  [[ "$1" =~ ^/[A-Za-z0-9._/-]*$ ]] || die "unsupported characters in path '$1' (allowed: A-Z a-z 0-9 . _ / -)"
}

init_paths() {
  NAME="$1"
  [[ "${NAME}" =~ ^[a-z0-9][a-z0-9-]{0,39}$ ]] \
    || die "invalid sandbox name '${NAME}': use 1-40 of a-z, 0-9, '-' (not first)"

  SANDBOX_ROOT="$(realpath -m "${TRACKER_BACKUP_SANDBOX_ROOT:-/srv/tracker-backup-sandbox}")"
  [[ "${SANDBOX_ROOT}" != "/" ]] || die "TRACKER_BACKUP_SANDBOX_ROOT must not be /"
  check_safe_path "${SANDBOX_ROOT}"
  STATE="${SANDBOX_ROOT}/${NAME}"
  DEPLOY="${STATE}/torrust"
  KEY="${STATE}/id_ed25519"
  DB_FILE="${DEPLOY}/storage/tracker/lib/database/tracker.db"
  DRIVER_FILE="${STATE}/driver"
  OS_FILE="${STATE}/os"
  MYSQL_PASSWORD_FILE="${DEPLOY}/storage/mysql/etc/tracker-password"
  CONTAINER="tbsandbox-${NAME}"
  PROJECT="tbsandbox-${NAME}"

  if [[ "${NAME}" == "default" ]]; then
    ENV_NAME="sandbox"
  else
    ENV_NAME="sandbox-${NAME}"
  fi
  ENV_FILE="$(realpath -m "${TRACKER_BACKUP_ENV_DIR:-${REPO_ROOT}/envs}")/${ENV_NAME}.json"
}

# One `up`/`down` per sandbox at a time; different sandboxes run in parallel.
# The lock lives outside STATE so `down` can delete STATE while holding it.
acquire_lock() {
  local lock_dir="/run/lock"
  [[ -d "${lock_dir}" && -w "${lock_dir}" ]] || lock_dir="${TMPDIR:-/tmp}"
  exec 8>"${lock_dir}/tracker-backup-sandbox-${NAME}.lock"
  if ! flock -n 8; then
    log "waiting for another sandbox.sh run on '${NAME}' to finish"
    flock 8
  fi
}

# What a sandbox was created with ($1: its file in STATE), or $2 for a
# sandbox from before that choice existed; empty for a new sandbox.
recorded_choice() {
  if [[ -f "$1" ]]; then
    cat -- "$1"
  elif [[ -f "${STATE}/sandbox-id" ]]; then
    printf '%s\n' "$2"
  fi
}

# An existing sandbox keeps its choice (its images, deployment files and
# database are made for it); only an explicit request for another one is an
# error. Prints the settled value. $1: driver|os, $2: file, $3: requested
# (may be empty), $4: default, $5: the allowed values as an ERE.
settled_choice() {
  local recorded
  recorded="$(recorded_choice "$2" "$4")"
  [[ -n "${recorded}" ]] || { printf '%s\n' "${3:-$4}"; return 0; }
  [[ "${recorded}" =~ ^($5)$ ]] || die "unknown $1 '${recorded}' in $2"
  if [[ -n "$3" && "$3" != "${recorded}" ]]; then
    die "sandbox '${NAME}' uses $1 ${recorded}, not $3; run 'scripts/sandbox.sh down ${NAME}' first"
  fi
  printf '%s\n' "${recorded}"
}

resolve_choices() {
  DRIVER="$(settled_choice driver "${DRIVER_FILE}" "${REQUESTED_DRIVER}" sqlite3 'sqlite3|mysql')"
  OS="$(settled_choice os "${OS_FILE}" "${REQUESTED_OS}" bookworm 'bookworm|trixie')"
  TARGET_IMAGE="${TARGET_REPOSITORY}:${OS}"
}

# --- docker helpers ---------------------------------------------------------

container_state() {
  docker inspect -f '{{.State.Status}}' "$1" 2>/dev/null || true
}

container_label() {
  docker inspect -f "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null || true
}

project_containers() {
  docker ps -aq --filter "label=com.docker.compose.project=${PROJECT}"
}

tracker_status() {
  docker ps -a --filter "label=com.docker.compose.project=${PROJECT}" \
    --filter "label=com.docker.compose.service=tracker" --format '{{.Status}}' | head -n 1
}

service_container() {
  docker ps -aq --filter "label=com.docker.compose.project=${PROJECT}" \
    --filter "label=com.docker.compose.service=$1" | head -n 1
}

# healthy, starting or unhealthy while it runs, else the container's state
# (exited, restarting, ...); empty when the mysql container does not exist.
mysql_health() {
  local id
  id="$(service_container "${MYSQL_SERVICE}")"
  [[ -n "${id}" ]] || return 0
  docker inspect -f '{{if ne .State.Status "running"}}{{.State.Status}}{{else if .State.Health}}{{.State.Health.Status}}{{else}}running{{end}}' "${id}" 2>/dev/null || true
}

target_port() {
  local mapping
  mapping="$(docker port "${CONTAINER}" 22/tcp 2>/dev/null | head -n 1)" || true
  [[ "${mapping}" =~ :([0-9]+)$ ]] || return 1
  printf '%s\n' "${BASH_REMATCH[1]}"
}

# --- ssh helpers ------------------------------------------------------------

# SSH_TIMEOUT (seconds, default 30) bounds the whole command, so a hung remote
# command cannot stall `up`/`down` forever.
ssh_target() {
  # -F /dev/null: the operator's own ~/.ssh/config must not change how we connect.
  timeout "${SSH_TIMEOUT:-30}" ssh -F /dev/null -i "${KEY}" -p "${PORT}" \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o BatchMode=yes -o IdentitiesOnly=yes -o ConnectTimeout=5 -o LogLevel=ERROR \
    "${SSH_USER}@${SSH_HOST}" "$@"
}

# --- up ---------------------------------------------------------------------

# build_image TAG CONTEXT [--build-arg NAME=VALUE ...]
build_image() {
  local tag="$1" context="$2" build_log
  shift 2
  build_log="${STATE}/logs/build-$(basename "${context}").log"
  log "building ${tag}"
  # The full build log is kept in STATE; only its tail is shown on failure, so
  # a normal run stays readable.
  if ! docker build "$@" -t "${tag}" "${context}" >"${build_log}" 2>&1; then
    tail -n 40 "${build_log}" >&2
    die "docker build of ${tag} failed; full log: ${build_log}"
  fi
}

# Containers from an earlier incarnation of this sandbox (STATE deleted by hand,
# half-finished `down`) still mount deleted directories; they must go before a
# fresh STATE is used.
remove_leftover_containers() {
  local ids
  ids="$(project_containers)"
  if [[ -n "${ids}" ]]; then
    log "removing leftover containers of compose project ${PROJECT}"
    # shellcheck disable=SC2086 # one container id per word is intended
    docker rm -f ${ids} >/dev/null
  fi
  if [[ -n "$(container_state "${CONTAINER}")" ]]; then
    log "removing leftover target container ${CONTAINER}"
    docker rm -f "${CONTAINER}" >/dev/null
  fi
}

prepare_state() {
  local existing_owner
  existing_owner="$(container_label "${CONTAINER}" "${LABEL_PREFIX}.state")"
  if [[ -n "${existing_owner}" && "${existing_owner}" != "${STATE}" ]]; then
    die "container ${CONTAINER} belongs to ${existing_owner}; run 'TRACKER_BACKUP_SANDBOX_ROOT=$(dirname "${existing_owner}") scripts/sandbox.sh down ${NAME}' first"
  fi

  if [[ ! -f "${STATE}/sandbox-id" ]]; then
    remove_leftover_containers
    install -d -m 0700 "${STATE}"
    # Ties the target container to this STATE; see start_target.
    cat /proc/sys/kernel/random/uuid >"${STATE}/sandbox-id"
  fi
  if [[ ! -f "${DRIVER_FILE}" ]]; then
    printf '%s\n' "${DRIVER}" >"${DRIVER_FILE}"
  fi
  if [[ ! -f "${OS_FILE}" ]]; then
    printf '%s\n' "${OS}" >"${OS_FILE}"
  fi
  mkdir -p "${STATE}/logs" "${DEPLOY}"

  if [[ ! -f "${KEY}" ]]; then
    log "generating SSH key ${KEY}"
    ssh-keygen -q -t ed25519 -N '' -C "tracker-backup-sandbox-${NAME}" -f "${KEY}"
  elif [[ ! -f "${KEY}.pub" ]]; then
    ssh-keygen -y -f "${KEY}" >"${KEY}.pub"
  fi
  chmod 0600 "${KEY}"
}

# Writes stdin to $1 unless it exists: these files belong to the operator's
# deployment, and a second `up` must not undo what a test changed in them.
write_if_missing() {
  local path="$1"
  if [[ -e "${path}" ]]; then
    # Drained so that a writer piping into us does not die of SIGPIPE
    # (which pipefail would turn into a failed `up`).
    cat >/dev/null
    return 0
  fi
  mkdir -p "$(dirname "${path}")"
  cat >"${path}.tmp.$$"
  mv -f "${path}.tmp.$$" "${path}"
}

compose_file_sqlite3() {
  cat <<EOF
# Torrust tracker deployment as the Torrust deployer would leave it, except that
# the tracker image is a local STAND-IN (sandbox/tracker) for torrust/tracker.
services:
  tracker:
    image: ${TRACKER_IMAGE}
    # Like the deployer's: no init, no stop_signal, the default grace period (10 s).
    # The stand-in is PID 1 and, like torrust/tracker, exits on SIGINT only.
    restart: unless-stopped
    environment:
      - DATABASE_DRIVER=sqlite3
      - STANDIN_INTERVAL=${STANDIN_INTERVAL}
      - SQLITE_PATH=/var/lib/torrust/tracker/database/tracker.db
      - TORRUST_TRACKER_CONFIG_TOML_PATH=/etc/torrust/tracker/tracker.toml
    volumes:
      - ./storage/tracker/lib:/var/lib/torrust/tracker
      - ./storage/tracker/etc:/etc/torrust/tracker:ro
    logging:
      driver: json-file
      options:
        max-size: "10m"
        max-file: "3"
EOF
}

# The password is not in this file: compose would interpolate any "$" in it,
# and the file is not secret. Both services read it from a 0600 file instead.
compose_file_mysql() {
  cat <<EOF
# Torrust tracker deployment with MySQL as the Torrust deployer would leave it,
# except that the images are local STAND-INS: sandbox/tracker for
# torrust/tracker and sandbox/mariadb (a real MariaDB server) for mysql.
services:
  ${MYSQL_SERVICE}:
    image: ${MARIADB_IMAGE}
    restart: unless-stopped
    # mariadbd is PID 1 and shuts down on SIGTERM within a second or two; the
    # grace period only matters for a large InnoDB buffer pool.
    stop_grace_period: 30s
    volumes:
      - ./storage/mysql/data:/var/lib/mysql
      - ./storage/mysql/etc/tracker-password:/run/secrets/tracker-password:ro
    networks:
      - database_network
    healthcheck:
      test: ["CMD", "mariadb-admin", "--protocol=socket", "--socket=/run/mysqld/mysqld.sock", "--user=root", "ping"]
      interval: 2s
      timeout: 5s
      retries: 5
      start_period: 120s
    logging:
      driver: json-file
      options:
        max-size: "10m"
        max-file: "3"

  tracker:
    image: ${TRACKER_IMAGE}
    # Like the deployer's: no init, no stop_signal, the default grace period (10 s).
    # The stand-in is PID 1 and, like torrust/tracker, exits on SIGINT only.
    restart: unless-stopped
    depends_on:
      ${MYSQL_SERVICE}:
        condition: service_healthy
    environment:
      - DATABASE_DRIVER=mysql
      - STANDIN_INTERVAL=${STANDIN_INTERVAL}
      - MYSQL_HOST=${MYSQL_SERVICE}
      - MYSQL_PORT=${MYSQL_PORT}
      - MYSQL_DATABASE=${MYSQL_DATABASE}
      - MYSQL_USER=${MYSQL_USER}
      - MYSQL_PASSWORD_FILE=/run/secrets/mysql-password
      - TORRUST_TRACKER_CONFIG_TOML_PATH=/etc/torrust/tracker/tracker.toml
    volumes:
      - ./storage/tracker/lib:/var/lib/torrust/tracker
      - ./storage/tracker/etc:/etc/torrust/tracker:ro
      - ./storage/mysql/etc/tracker-password:/run/secrets/mysql-password:ro
    networks:
      - default
      - database_network
    logging:
      driver: json-file
      options:
        max-size: "10m"
        max-file: "3"

networks:
  database_network: {}
EOF
}

tracker_toml_database_sqlite3() {
  cat <<'EOF'
[core.database]
driver = "sqlite3"
path = "/var/lib/torrust/tracker/database/tracker.db"
EOF
}

tracker_toml_database_mysql() {
  cat <<EOF
[core.database]
driver = "mysql"
# The password part is a placeholder: the stand-in tracker does not read this
# file (it reads MYSQL_PASSWORD_FILE), and the real password lives only in
# storage/mysql/etc/tracker-password (mode 0600).
path = "mysql://${MYSQL_USER}:password-in-storage-mysql-etc@${MYSQL_SERVICE}:${MYSQL_PORT}/${MYSQL_DATABASE}"
EOF
}

tracker_toml() {
  cat <<'EOF'
[metadata]
app = "torrust-tracker"
purpose = "configuration"
schema_version = "2.0.0"

[logging]
threshold = "info"

[core]
inactive_peer_cleanup_interval = 600
listed = false
private = false
tracker_usage_statistics = true

[core.announce_policy]
interval = 120
interval_min = 120

EOF
  "tracker_toml_database_${DRIVER}"
  cat <<'EOF'

[core.net]
external_ip = "0.0.0.0"
on_reverse_proxy = false

[core.tracker_policy]
max_peer_timeout = 900
persistent_torrent_completed_stat = true
remove_peerless_torrents = true

[[udp_trackers]]
bind_address = "0.0.0.0:6969"

[[http_trackers]]
bind_address = "0.0.0.0:7070"

[http_api]
bind_address = "0.0.0.0:1212"

[http_api.access_tokens]
admin = "sandbox-admin-token"

[health_check_api]
bind_address = "127.0.0.1:1313"
EOF
}

# Reads the password file exactly (the "x" keeps trailing newlines) into
# MYSQL_PASSWORD.
load_mysql_password() {
  local password
  password="$(cat -- "${MYSQL_PASSWORD_FILE}" && printf x)" || die "cannot read ${MYSQL_PASSWORD_FILE}"
  MYSQL_PASSWORD="${password%x}"
}

# The password file is the only copy the deployment has: the mysql service
# creates tracker_user with it on its first start, the stand-in tracker logs in
# with it. A later `up` keeps it, since the database user already exists.
ensure_mysql_password() {
  local requested="${TRACKER_BACKUP_SANDBOX_MYSQL_PASSWORD:-${DEFAULT_MYSQL_PASSWORD}}"
  install -d -m 0700 "$(dirname "${MYSQL_PASSWORD_FILE}")"
  if [[ -f "${MYSQL_PASSWORD_FILE}" ]]; then
    load_mysql_password
    if [[ -n "${TRACKER_BACKUP_SANDBOX_MYSQL_PASSWORD:-}" && "${MYSQL_PASSWORD}" != "${requested}" ]]; then
      warn "keeping the password in ${MYSQL_PASSWORD_FILE}: tracker_user already exists with it; TRACKER_BACKUP_SANDBOX_MYSQL_PASSWORD only applies to a new sandbox"
    fi
    return 0
  fi
  # The environment file is JSON, which cannot carry arbitrary bytes.
  printf '%s' "${requested}" | iconv -f UTF-8 -t UTF-8 >/dev/null 2>&1 \
    || die "TRACKER_BACKUP_SANDBOX_MYSQL_PASSWORD is not valid UTF-8"
  # printf '%s': no trailing newline, the file holds exactly the password.
  (umask 077 && printf '%s' "${requested}" >"${MYSQL_PASSWORD_FILE}.tmp.$$")
  chmod 0600 "${MYSQL_PASSWORD_FILE}.tmp.$$"
  mv -f "${MYSQL_PASSWORD_FILE}.tmp.$$" "${MYSQL_PASSWORD_FILE}"
  MYSQL_PASSWORD="${requested}"
}

create_deployment() {
  log "ensuring the pre-existing tracker deployment in ${DEPLOY} (driver ${DRIVER})"
  mkdir -p "${DEPLOY}/storage/tracker/lib/database"
  if [[ "${DRIVER}" == "mysql" ]]; then
    # The data directory ends up owned by the container's mysql user.
    mkdir -p "${DEPLOY}/storage/mysql/data"
    ensure_mysql_password
  fi

  "compose_file_${DRIVER}" | write_if_missing "${DEPLOY}/docker-compose.yml"

  # A fixed project name keeps several sandboxes on one daemon apart and makes
  # the name independent of the directory (always "torrust").
  write_if_missing "${DEPLOY}/.env" <<EOF
COMPOSE_PROJECT_NAME=${PROJECT}
EOF

  tracker_toml | write_if_missing "${DEPLOY}/storage/tracker/etc/tracker.toml"

  write_if_missing "${DEPLOY}/storage/prometheus/etc/prometheus.yml" <<'EOF'
global:
  scrape_interval: 15s

scrape_configs:
  - job_name: tracker_stats
    metrics_path: /api/v1/stats
    params:
      token: ["sandbox-admin-token"]
      format: ["prometheus"]
    static_configs:
      - targets: ["tracker:1212"]

  - job_name: tracker_metrics
    metrics_path: /api/v1/metrics
    params:
      token: ["sandbox-admin-token"]
      format: ["prometheus"]
    static_configs:
      - targets: ["tracker:1212"]
EOF

  write_if_missing "${DEPLOY}/storage/grafana/provisioning/datasources/prometheus.yml" <<'EOF'
apiVersion: 1

datasources:
  - name: Prometheus
    type: prometheus
    access: proxy
    url: http://prometheus:9090
    isDefault: true
    editable: false
EOF

  write_if_missing "${DEPLOY}/storage/grafana/provisioning/dashboards/torrust.yml" <<'EOF'
apiVersion: 1

providers:
  - name: torrust
    folder: Torrust
    type: file
    disableDeletion: false
    updateIntervalSeconds: 60
    options:
      path: /etc/grafana/provisioning/dashboards/torrust
EOF
}

start_target() {
  local state sandbox_id running_id
  sandbox_id="$(<"${STATE}/sandbox-id")"
  state="$(container_state "${CONTAINER}")"

  if [[ -n "${state}" ]]; then
    running_id="$(container_label "${CONTAINER}" "${LABEL_PREFIX}.id")"
    if [[ "${running_id}" != "${sandbox_id}" ]]; then
      # Created for an earlier STATE: its key and bind mounts point at files
      # that no longer exist.
      log "replacing stale target container ${CONTAINER}"
      docker rm -f "${CONTAINER}" >/dev/null
      state=""
    fi
  fi

  case "${state}" in
    running)
      log "reusing running target container ${CONTAINER}"
      if [[ "$(docker inspect -f '{{.Image}}' "${CONTAINER}")" != "$(docker image inspect -f '{{.Id}}' "${TARGET_IMAGE}")" ]]; then
        warn "${CONTAINER} runs an older ${TARGET_IMAGE}; 'down' then 'up' to use the new one"
      fi
      ;;
    "")
      log "starting target container ${CONTAINER}"
      # The deploy dir is mounted at the SAME path: compose inside the target
      # talks to the host daemon, which resolves ./storage/... on the host.
      # Only the loopback address is published.
      docker run -d --name "${CONTAINER}" --hostname "${CONTAINER}" \
        --label "${LABEL_PREFIX}.name=${NAME}" \
        --label "${LABEL_PREFIX}.state=${STATE}" \
        --label "${LABEL_PREFIX}.id=${sandbox_id}" \
        -p "${SSH_HOST}::22" \
        -v /var/run/docker.sock:/var/run/docker.sock \
        -v "${DEPLOY}:${DEPLOY}" \
        -v "${KEY}.pub:/etc/sandbox/authorized_keys:ro" \
        "${TARGET_IMAGE}" >/dev/null
      ;;
    *)
      log "starting existing target container ${CONTAINER} (was ${state})"
      docker start "${CONTAINER}" >/dev/null
      ;;
  esac
}

wait_for_ssh() {
  local deadline=$((SECONDS + SSH_WAIT_SECONDS)) err=""
  log "waiting for SSH on ${SSH_HOST}:${PORT}"
  until err="$(SSH_TIMEOUT=15 ssh_target true 2>&1)"; do
    if [[ "$(container_state "${CONTAINER}")" != "running" ]]; then
      docker logs --tail 30 "${CONTAINER}" >&2 || true
      die "target container ${CONTAINER} stopped while waiting for SSH"
    fi
    if ((SECONDS >= deadline)); then
      docker logs --tail 30 "${CONTAINER}" >&2 || true
      die "no SSH login to ${SSH_USER}@${SSH_HOST}:${PORT} after ${SSH_WAIT_SECONDS}s (last error: ${err:-none})"
    fi
    sleep 1
  done
  log "SSH login works"
}

# Runs compose with the given arguments as root in DEPLOY on the target: the v2
# plugin when the target has one (trixie; Docker's own packages may have no
# docker-compose at all), else v1's docker-compose. The arguments are fixed
# words of this script.
compose_in_target() {
  local script='if docker compose version >/dev/null 2>&1; then exec docker compose "$@"; fi; exec docker-compose "$@"'
  # printf %q: the path and the script go through the remote login shell.
  ssh_target "cd $(printf '%q' "${DEPLOY}") && sudo bash -c $(printf '%q' "${script}") compose $*"
}

start_stack() {
  log "starting the tracker stack from inside the target (compose $(SSH_TIMEOUT=15 compose_in_target version --short 2>/dev/null || true))"
  SSH_TIMEOUT=300 compose_in_target up -d >&2 \
    || die "'compose up -d' in ${DEPLOY} on the target failed"
}

torrent_count_sqlite3() {
  # -readonly: never create the file or take a write lock next to the tracker.
  [[ -f "${DB_FILE}" ]] || return 1
  sqlite3 -readonly -cmd '.timeout 2000' "${DB_FILE}" 'SELECT count(*) FROM torrents;' 2>/dev/null
}

# As root through the server's unix socket, the only way root can log in.
torrent_count_mysql() {
  local id
  id="$(service_container "${MYSQL_SERVICE}")"
  [[ -n "${id}" ]] || return 1
  timeout 15 docker exec "${id}" mariadb --user=root --batch --skip-column-names \
    --execute='SELECT count(*) FROM torrents;' "${MYSQL_DATABASE}" 2>/dev/null
}

torrent_count() {
  "torrent_count_${DRIVER}"
}

database_description() {
  if [[ "${DRIVER}" == "mysql" ]]; then
    printf 'database %s of the %s service' "${MYSQL_DATABASE}" "${MYSQL_SERVICE}"
  else
    printf '%s' "${DB_FILE}"
  fi
}

# `docker-compose up -d` already waits for it (depends_on: service_healthy);
# this also covers a compose that does not, and gives a clear error.
wait_for_mysql() {
  local deadline=$((SECONDS + DB_WAIT_SECONDS)) health=""
  log "waiting for the ${MYSQL_SERVICE} service to be healthy"
  while true; do
    health="$(mysql_health)"
    [[ "${health}" != "healthy" ]] || break
    if ((SECONDS >= deadline)) || [[ "${health}" == "unhealthy" || "${health}" == "exited" ]]; then
      docker logs --tail 30 "$(service_container "${MYSQL_SERVICE}")" >&2 || true
      die "the ${MYSQL_SERVICE} service is not healthy (${health:-absent})"
    fi
    sleep 0.5
  done
  log "the ${MYSQL_SERVICE} service is healthy"
}

wait_for_database() {
  local deadline=$((SECONDS + DB_WAIT_SECONDS)) count="" initial
  if [[ "${DRIVER}" == "mysql" ]]; then
    wait_for_mysql
  fi
  log "waiting for the stand-in tracker to write $(database_description)"
  # Rows left from an earlier run prove nothing: wait for a new one.
  initial="$(torrent_count)" || initial=0
  [[ "${initial}" =~ ^[0-9]+$ ]] || initial=0
  while true; do
    count="$(torrent_count)" || count=""
    if [[ "${count}" =~ ^[0-9]+$ ]] && ((count > initial)); then
      break
    fi
    if ((SECONDS >= deadline)); then
      docker logs --tail 30 "$(service_container tracker)" >&2 || true
      die "no new rows in torrents of $(database_description) after ${DB_WAIT_SECONDS}s (tracker: $(tracker_status))"
    fi
    sleep 0.5
  done
  log "tracker database has ${count} torrents"
}

# A real JSON encoder writes the file: the MySQL password may hold quotes,
# backslashes and anything else. Values reach python3 through the environment,
# never through its command line or its source.
write_env_file() {
  local tmp
  mkdir -p "$(dirname "${ENV_FILE}")"
  tmp="${ENV_FILE}.tmp.$$"
  SANDBOX_OUT="${tmp}" SANDBOX_ENV_NAME="${ENV_NAME}" SANDBOX_KEY="${KEY}" \
    SANDBOX_SSH_USER="${SSH_USER}" SANDBOX_PORT="${PORT}" SANDBOX_HOST="${SSH_HOST}" \
    SANDBOX_DEPLOY="${DEPLOY}" SANDBOX_DRIVER="${DRIVER}" \
    SANDBOX_MYSQL_HOST="${MYSQL_SERVICE}" SANDBOX_MYSQL_PORT="${MYSQL_PORT}" \
    SANDBOX_MYSQL_DATABASE="${MYSQL_DATABASE}" SANDBOX_MYSQL_USER="${MYSQL_USER}" \
    SANDBOX_MYSQL_PASSWORD="${MYSQL_PASSWORD}" \
    python3 - <<'PY' || die "could not write ${ENV_FILE}"
import json
import os

e = os.environ
if e["SANDBOX_DRIVER"] == "mysql":
    database = {
        "driver": "mysql",
        "host": e["SANDBOX_MYSQL_HOST"],
        "port": int(e["SANDBOX_MYSQL_PORT"]),
        "database_name": e["SANDBOX_MYSQL_DATABASE"],
        "username": e["SANDBOX_MYSQL_USER"],
        "password": e["SANDBOX_MYSQL_PASSWORD"],
    }
    mode = 0o600  # it holds the password
else:
    database = {"driver": "sqlite3", "database_name": "tracker.db"}
    mode = 0o666  # minus the umask, as a shell redirection creates files

env = {
    "$schema": "../schemas/environment.schema.json",
    "environment": {"name": e["SANDBOX_ENV_NAME"]},
    "ssh_credentials": {
        "private_key_path": e["SANDBOX_KEY"],
        "public_key_path": e["SANDBOX_KEY"] + ".pub",
        "username": e["SANDBOX_SSH_USER"],
        "port": int(e["SANDBOX_PORT"]),
    },
    "instance": {"host": e["SANDBOX_HOST"]},
    "deploy_dir": e["SANDBOX_DEPLOY"],
    "ansible": {"host_key_checking": False},
    "tracker": {"core": {"database": database, "private": False}},
    "backup": {"schedule": "0 3 * * *", "retention_days": 7},
}
fd = os.open(e["SANDBOX_OUT"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
with os.fdopen(fd, "w", encoding="utf-8") as out:
    json.dump(env, out, indent=2, ensure_ascii=False)
    out.write("\n")
PY
  mv -f "${tmp}" "${ENV_FILE}"
  log "wrote environment file ${ENV_FILE}"
}

cmd_up() {
  require_commands docker ssh ssh-keygen sqlite3 python3 iconv flock timeout realpath
  acquire_lock
  resolve_choices
  resolve_layout
  log "bringing up sandbox '${NAME}' (state ${STATE}, driver ${DRIVER}, os ${OS}, layout ${LAYOUT})"

  # The tracker and MariaDB stand-ins are bookworm-based whatever the target runs.
  "${SCRIPT_DIR}/base-image.sh"
  prepare_state
  if [[ "${OS}" == "trixie" ]]; then
    "${SCRIPT_DIR}/base-image.sh" trixie
    build_image "${TARGET_IMAGE}" "${REPO_ROOT}/sandbox/target" \
      --build-arg BASE_IMAGE=debian:trixie-slim --build-arg "DOCKER_PACKAGES=docker-cli docker-compose"
  else
    build_image "${TARGET_IMAGE}" "${REPO_ROOT}/sandbox/target"
  fi
  build_image "${TRACKER_IMAGE}" "${REPO_ROOT}/sandbox/tracker"
  if [[ "${DRIVER}" == "mysql" ]]; then
    build_image "${MARIADB_IMAGE}" "${REPO_ROOT}/sandbox/mariadb"
  fi
  # Every rebuild leaves the previous image untagged (several hundred MB);
  # images still used by a container are kept by prune.
  docker image prune -f --filter "label=${LABEL_PREFIX}.image" >/dev/null
  [[ "${LAYOUT}" != deployer ]] || deployer_deploy_dir
  create_deployment
  start_target

  PORT="$(target_port)" || die "cannot read the published SSH port of ${CONTAINER}"
  wait_for_ssh
  [[ "${LAYOUT}" != deployer ]] || deployer_host_files
  start_stack
  wait_for_database
  [[ "${LAYOUT}" != deployer ]] || deployer_legacy_backups
  write_env_file

  log "sandbox '${NAME}' ready: ssh -i ${KEY} -p ${PORT} ${SSH_USER}@${SSH_HOST}"
  printf '%s\n' "${ENV_FILE}"
}

# --- deployer layout (--layout deployer) ------------------------------------

# An existing sandbox keeps its layout, like its driver.
resolve_layout() {
  local recorded=""
  [[ ! -f "${STATE}/layout" ]] || recorded="$(<"${STATE}/layout")"
  if [[ -z "${recorded}" && -f "${STATE}/sandbox-id" ]]; then
    recorded=standard
  fi
  if [[ -n "${recorded}" && -n "${REQUESTED_LAYOUT}" && "${REQUESTED_LAYOUT}" != "${recorded}" ]]; then
    die "sandbox '${NAME}' has the ${recorded} layout, not ${REQUESTED_LAYOUT}; run 'scripts/sandbox.sh down ${NAME}' first"
  fi
  LAYOUT="${recorded:-${REQUESTED_LAYOUT:-standard}}"
  if [[ -z "${recorded}" ]]; then
    install -d -m 0700 "${STATE}"
    printf '%s\n' "${LAYOUT}" >"${STATE}/layout"
  fi
}

# A fixture template from sandbox/deployer/ with this sandbox's values filled in.
deployer_render() {
  DEPLOYER_PREFIX="${CONTAINER}-" DEPLOYER_PROJECT="${PROJECT}" DEPLOYER_DEPLOY="${DEPLOY}" \
    DEPLOYER_DRIVER="${DRIVER}" DEPLOYER_STANDIN_INTERVAL="${STANDIN_INTERVAL}" \
    DEPLOYER_MYSQL_USER="${MYSQL_USER}" DEPLOYER_MYSQL_DATABASE="${MYSQL_DATABASE}" \
    DEPLOYER_MYSQL_PASSWORD="${MYSQL_PASSWORD}" \
    python3 "${REPO_ROOT}/sandbox/deployer/render.py" "${REPO_ROOT}/sandbox/deployer/$1"
}

# Written before create_deployment, whose write_if_missing then keeps these files. The
# deployer's images are tagged from the stand-ins, so compose never pulls.
deployer_deploy_dir() {
  local fixture="${REPO_ROOT}/sandbox/deployer" etc="${DEPLOY}/storage/backup/etc"
  log "laying ${DEPLOY} out as the Torrust Tracker Deployer does (fixtures in sandbox/deployer)"
  docker tag "${TRACKER_IMAGE}" torrust/tracker:develop
  docker tag "${TRACKER_IMAGE}" torrust/tracker-backup:latest
  if [[ "${DRIVER}" == "mysql" ]]; then
    docker tag "${MARIADB_IMAGE}" mysql:8.4
    mkdir -p "${DEPLOY}/storage/mysql/data"
    ensure_mysql_password
  fi
  mkdir -p "${DEPLOY}/storage/tracker/log"
  deployer_render "docker-compose.${DRIVER}.yml" | write_if_missing "${DEPLOY}/docker-compose.yml"
  deployer_render env | write_if_missing "${DEPLOY}/.env"
  # The deployer's modes and owner (its SSH user, uid 1000 on the target).
  chmod 0640 "${DEPLOY}/docker-compose.yml" "${DEPLOY}/.env"
  if [[ ! -e "${etc}" ]]; then
    install -d -m 0755 -o 1000 -g 1000 "${etc}"
    deployer_render "backup.conf.${DRIVER}" | write_if_missing "${etc}/backup.conf"
    write_if_missing "${etc}/backup-paths.txt" <"${fixture}/backup-paths.txt"
    chmod 0644 "${etc}/backup.conf" "${etc}/backup-paths.txt"
    chown 1000:1000 "${etc}/backup.conf" "${etc}/backup-paths.txt" "${DEPLOY}/docker-compose.yml" "${DEPLOY}/.env"
  fi
}

# The deployer's files outside the deploy directory, on the target; kept when present.
deployer_host_files() {
  local fixture="${REPO_ROOT}/sandbox/deployer"
  log "installing the deployer's cron file, maintenance script and log on the target"
  deployer_render tracker-backup.cron \
    | ssh_target "sudo sh -c 'test -e /etc/cron.d/tracker-backup || { cat >/etc/cron.d/tracker-backup && chmod 0644 /etc/cron.d/tracker-backup; }'"
  ssh_target "sudo sh -c 'test -e /usr/local/bin/maintenance-backup.sh || { cat >/usr/local/bin/maintenance-backup.sh && chmod 0755 /usr/local/bin/maintenance-backup.sh; }'" \
    <"${fixture}/maintenance-backup.sh"
  printf '[%s] ========================================\n[%s] Starting backup maintenance\n[%s] Backup maintenance completed (exit code: 0)\n' \
    "$(date -u -d '1 day ago' '+%Y-%m-%d 03:00:01')" "$(date -u -d '1 day ago' '+%Y-%m-%d 03:00:01')" "$(date -u -d '1 day ago' '+%Y-%m-%d 03:00:04')" \
    | ssh_target "sudo sh -c 'test -e /var/log/tracker-backup.log || { cat >/var/log/tracker-backup.log && chmod 0644 /var/log/tracker-backup.log; }'"
}

deployer_legacy_backups() {
  log "writing legacy backups (no manifests) into ${DEPLOY}/storage/backup"
  "${REPO_ROOT}/sandbox/deployer/legacy-backups.sh" "${DEPLOY}" "${DRIVER}" \
    "$(service_container "${MYSQL_SERVICE}")" "${MYSQL_DATABASE}" \
    || die "could not write the legacy backups"
}

# --- down -------------------------------------------------------------------

compose_down_in_target() {
  [[ "$(container_state "${CONTAINER}")" == "running" && -f "${KEY}" && -f "${DEPLOY}/docker-compose.yml" ]] || return 1
  PORT="$(target_port)" || return 1
  log "stopping the tracker stack from inside the target"
  SSH_TIMEOUT=120 compose_in_target down --volumes --remove-orphans >&2
}

compose_down_on_host() {
  [[ -f "${DEPLOY}/docker-compose.yml" ]] || return 1
  command -v docker-compose >/dev/null 2>&1 || return 1
  log "stopping the tracker stack directly on the host"
  (cd "${DEPLOY}" && timeout 120 docker-compose -p "${PROJECT}" down --volumes --remove-orphans) >&2
}

# Whatever compose did not remove (no compose file any more, a `run --rm` that
# was interrupted, ...) is found by compose's own labels.
remove_project_leftovers() {
  local ids
  ids="$(project_containers)"
  if [[ -n "${ids}" ]]; then
    log "removing leftover containers of ${PROJECT}"
    # shellcheck disable=SC2086 # one container id per word is intended
    docker rm -f ${ids} >/dev/null || warn "could not remove some containers of ${PROJECT}"
  fi
  ids="$(docker network ls -q --filter "label=com.docker.compose.project=${PROJECT}")"
  if [[ -n "${ids}" ]]; then
    # shellcheck disable=SC2086 # one network id per word is intended
    docker network rm ${ids} >/dev/null || warn "could not remove some networks of ${PROJECT}"
  fi
  ids="$(docker volume ls -q --filter "label=com.docker.compose.project=${PROJECT}")"
  if [[ -n "${ids}" ]]; then
    # shellcheck disable=SC2086 # one volume name per word is intended
    docker volume rm ${ids} >/dev/null || warn "could not remove some volumes of ${PROJECT}"
  fi
}

remove_state() {
  [[ -e "${STATE}" ]] || return 0
  log "deleting ${STATE}"
  # The tracker writes as root; when this script is not root, a throwaway
  # container deletes what we cannot.
  if ! rm -rf -- "${STATE}" 2>/dev/null; then
    docker run --rm -v "${SANDBOX_ROOT}:/sandbox-root" debian:bookworm-slim \
      rm -rf -- "/sandbox-root/${NAME}" || warn "could not delete ${STATE}"
  fi
}

remove_env_file() {
  [[ -f "${ENV_FILE}" ]] || return 0
  # Only delete the file if `up` wrote it for this state dir: an environment
  # file of the same name that points elsewhere is someone else's.
  if grep -qF "\"deploy_dir\": \"${DEPLOY}\"" "${ENV_FILE}"; then
    rm -f -- "${ENV_FILE}"
    log "deleted ${ENV_FILE}"
  else
    warn "keeping ${ENV_FILE}: it does not describe ${DEPLOY}"
  fi
}

cmd_down() {
  require_commands docker flock timeout realpath
  acquire_lock
  log "tearing down sandbox '${NAME}'"

  # Each step tolerates failure: `down` must clean up half-created sandboxes.
  if ! compose_down_in_target; then
    compose_down_on_host || true
  fi
  remove_project_leftovers
  if [[ -n "$(container_state "${CONTAINER}")" ]]; then
    log "removing target container ${CONTAINER}"
    docker rm -f "${CONTAINER}" >/dev/null || warn "could not remove ${CONTAINER}"
  fi
  remove_state
  remove_env_file

  [[ -z "$(container_state "${CONTAINER}")" && -z "$(project_containers)" && ! -e "${STATE}" ]] \
    || die "sandbox '${NAME}' is not completely removed"
  log "sandbox '${NAME}' removed"
}

# --- status -----------------------------------------------------------------

cmd_status() {
  require_commands docker realpath
  local state tracker count="-" ssh_state="-" mysql="" rc=0

  DRIVER="$(recorded_choice "${DRIVER_FILE}" sqlite3)"
  DRIVER="${DRIVER:-sqlite3}"
  OS="$(recorded_choice "${OS_FILE}" bookworm)"
  state="$(container_state "${CONTAINER}")"
  tracker="$(tracker_status)"
  if [[ "${state}" == "running" ]] && PORT="$(target_port)"; then
    if [[ -f "${KEY}" ]] && SSH_TIMEOUT=15 ssh_target true 2>/dev/null; then
      ssh_state="ok"
    else
      ssh_state="failing"
    fi
  fi
  count="$(torrent_count)" || count="-"
  if [[ "${DRIVER}" == "mysql" ]]; then
    mysql="$(mysql_health)"
  fi

  printf 'sandbox:          %s\n' "${NAME}"
  printf 'driver:           %s\n' "${DRIVER}"
  printf 'os:               %s\n' "${OS:--}"
  printf 'target container: %s (%s)\n' "${CONTAINER}" "${state:-absent}"
  printf 'ssh:              %s@%s port %s (login %s)\n' "${SSH_USER}" "${SSH_HOST}" "${PORT:--}" "${ssh_state}"
  printf 'tracker:          %s (compose project %s)\n' "${tracker:-absent}" "${PROJECT}"
  if [[ "${DRIVER}" == "mysql" ]]; then
    printf 'mysql service:    %s\n' "${mysql:-absent}"
  fi
  printf 'torrents rows:    %s\n' "${count}"
  printf 'state dir:        %s (%s)\n' "${STATE}" "$([[ -d "${STATE}" ]] && echo present || echo absent)"
  printf 'env file:         %s (%s)\n' "${ENV_FILE}" "$([[ -f "${ENV_FILE}" ]] && echo present || echo absent)"

  [[ "${ssh_state}" == "ok" && "${tracker}" == Up* ]] || rc=1
  [[ "${DRIVER}" != "mysql" || "${mysql}" == "healthy" ]] || rc=1
  return "${rc}"
}

main() {
  local cmd="${1:-}"
  case "${cmd}" in
    -h | --help | help)
      usage
      return 0
      ;;
    up | down | status) ;;
    "")
      usage >&2
      die "missing command"
      ;;
    *)
      usage >&2
      die "unknown command: ${cmd}"
      ;;
  esac
  shift

  local name="" arg
  local value
  REQUESTED_DRIVER="${TRACKER_BACKUP_SANDBOX_DRIVER:-}"
  REQUESTED_OS="${TRACKER_BACKUP_SANDBOX_OS:-}"
  while (($# > 0)); do
    arg="$1"
    shift
    case "${arg}" in
      --driver | --driver=* | --os | --os=*)
        [[ "${cmd}" == "up" ]] || die "${arg%%=*} only applies to 'up'"
        if [[ "${arg}" == *=* ]]; then
          value="${arg#*=}"
        else
          (($# > 0)) || die "${arg} needs a value; see scripts/sandbox.sh --help"
          value="$1"
          shift
        fi
        if [[ "${arg%%=*}" == --driver ]]; then
          REQUESTED_DRIVER="${value}"
        else
          REQUESTED_OS="${value}"
        fi
        ;;
      --layout | --layout=*)
        [[ "${cmd}" == "up" ]] || die "--layout only applies to 'up'"
        if [[ "${arg}" == --layout ]]; then
          (($# > 0)) || die "--layout needs a value: standard or deployer"
          REQUESTED_LAYOUT="$1"
          shift
        else
          REQUESTED_LAYOUT="${arg#--layout=}"
        fi
        case "${REQUESTED_LAYOUT}" in
          standard | deployer) ;;
          *) die "unsupported layout '${REQUESTED_LAYOUT}' (--layout): use standard or deployer" ;;
        esac
        ;;
      -*)
        die "unknown option: ${arg}"
        ;;
      *)
        [[ -z "${name}" ]] || die "too many arguments; see scripts/sandbox.sh --help"
        name="${arg}"
        ;;
    esac
  done
  if [[ "${cmd}" == "up" ]]; then
    case "${REQUESTED_DRIVER}" in
      "" | sqlite3 | mysql) ;;
      *) die "unsupported driver '${REQUESTED_DRIVER}' (--driver / TRACKER_BACKUP_SANDBOX_DRIVER): use sqlite3 or mysql" ;;
    esac
    case "${REQUESTED_OS}" in
      "" | bookworm | trixie) ;;
      *) die "unsupported os '${REQUESTED_OS}' (--os / TRACKER_BACKUP_SANDBOX_OS): use bookworm or trixie" ;;
    esac
  fi

  init_paths "${name:-default}"
  "cmd_${cmd}"
}

main "$@"
