#!/usr/bin/env bash
#
# Creates, inspects and removes local "sandbox targets": Debian containers that
# Ansible reaches over real SSH on 127.0.0.1, each holding a pre-existing Torrust
# tracker deployment (a stand-in tracker writing a live SQLite database, or with
# --driver mysql a live MariaDB database in a `mysql` service) that the backup
# tooling can be installed on and tested against (docs/sandbox.md). The modules under
# sandbox/ build the images, write the deployment from fixture files and watch its
# stack; scripts/sandbox-env.ts writes the environment file through the project's loader.
#
# Run on the Docker host, as root, from anywhere inside the repository. Needs docker,
# ssh, ssh-keygen, sqlite3, python3, node (the repository's node_modules), flock,
# debootstrap the first time (scripts/base-image.sh), and docker-compose only for
# `down` when the target is gone. Usage and environment: usage() or --help.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(dirname "${SCRIPT_DIR}")"
readonly SCRIPT_DIR REPO_ROOT
readonly SSH_USER="torrust" SSH_HOST="127.0.0.1"
readonly SSH_WAIT_SECONDS=60
readonly MYSQL_SERVICE="mysql" MYSQL_DATABASE="torrust_tracker" MYSQL_USER="tracker_user" MYSQL_PORT=3306

STANDIN_INTERVAL="${TRACKER_BACKUP_SANDBOX_STANDIN_INTERVAL:-0.2}"
[[ "${STANDIN_INTERVAL}" =~ ^[0-9]+(\.[0-9]+)?$ ]] \
  || { echo "TRACKER_BACKUP_SANDBOX_STANDIN_INTERVAL must be a number of seconds" >&2; exit 2; }
readonly STANDIN_INTERVAL

# The values each choice allows, its default first; asked for by options (REQUESTED,
# empty when not given) and settled by resolve_choices. init_paths sets the paths,
# PORT is set once the target's SSH port is known.
declare -A -r CHOICES=([driver]="sqlite3 mysql" [os]="bookworm trixie" [layout]="standard deployer")
declare -A REQUESTED=([driver]="" [os]="" [layout]="")
DRIVER="" OS="" LAYOUT="" PORT=""
# --cpus: a cpuset (as `docker run --cpuset-cpus` takes it), empty for no pinning.
CPUS=""

say() {
  printf '[%s] %s: %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$1" "${*:2}" >&2
}
log() { say INFO "$@"; }
warn() { say WARN "$@"; }
die() {
  say ERROR "$@"
  exit 1
}

usage() {
  cat <<'EOF'
Usage:
  scripts/sandbox.sh up [NAME] [--driver sqlite3|mysql] [--os bookworm|trixie]
                                    [--layout standard|deployer] [--cpus LIST]
                                    create or reuse sandbox NAME and print the path
                                    of its environment file (last line of stdout)
  scripts/sandbox.sh down [NAME]    remove sandbox NAME completely
  scripts/sandbox.sh status [NAME]  show target, SSH and tracker state
                                    (exit 0 only when target and tracker are up)

NAME defaults to "default" (a-z, 0-9 and "-", not first). The environment file is
envs/sandbox.json for NAME=default, else envs/sandbox-NAME.json. The options pick
the database, the target's Debian release (trixie: compose v2) and the layout of
a new sandbox (deployer: as the Torrust Tracker Deployer v0.1.0 leaves a host, from
sandbox/deployer/); an existing sandbox keeps them (run `down` first). Defaults:
sqlite3, bookworm, standard. --cpus (a cpuset such as 1 or 0-1,3) pins the target
container and its compose stack to those CPUs, on every `up` that gives it; containers
started later (a backup's) are not pinned. docs/sandbox.md has the details.

Environment:
  TRACKER_BACKUP_SANDBOX_ROOT    state root (default /srv/tracker-backup-sandbox)
  TRACKER_BACKUP_ENV_DIR         environment file directory (default <repo>/envs)
  TRACKER_BACKUP_CACHE           base image cache (default /var/cache/tracker-backup)
  TRACKER_BACKUP_SANDBOX_DRIVER  driver when --driver is not given (sqlite3|mysql)
  TRACKER_BACKUP_SANDBOX_OS      target OS when --os is not given (bookworm|trixie)
  TRACKER_BACKUP_SANDBOX_STANDIN_INTERVAL
                                 seconds between the stand-in tracker's writes in a
                                 new sandbox (default 0.2)
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
init_paths() {
  NAME="$1"
  [[ "${NAME}" =~ ^[a-z0-9][a-z0-9-]{0,39}$ ]] \
    || die "invalid sandbox name '${NAME}': use 1-40 of a-z, 0-9, '-' (not first)"
  SANDBOX_ROOT="$(realpath -m "${TRACKER_BACKUP_SANDBOX_ROOT:-/srv/tracker-backup-sandbox}")"
  [[ "${SANDBOX_ROOT}" != "/" ]] || die "TRACKER_BACKUP_SANDBOX_ROOT must not be /"
  [[ "${SANDBOX_ROOT}" =~ ^/[A-Za-z0-9._/-]*$ ]] \
    || die "unsupported characters in path '${SANDBOX_ROOT}' (allowed: A-Z a-z 0-9 . _ / -)"
  STATE="${SANDBOX_ROOT}/${NAME}"
  DEPLOY="${STATE}/torrust"
  KEY="${STATE}/id_ed25519"
  CONTAINER="tbsandbox-${NAME}"
  PROJECT="tbsandbox-${NAME}"
  ENV_NAME="sandbox-${NAME}"
  [[ "${NAME}" != "default" ]] || ENV_NAME="sandbox"
  ENV_FILE="$(realpath -m "${TRACKER_BACKUP_ENV_DIR:-${REPO_ROOT}/envs}")/${ENV_NAME}.json"
  readonly NAME SANDBOX_ROOT STATE DEPLOY KEY CONTAINER PROJECT ENV_NAME ENV_FILE
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

# What a sandbox was created with (its file STATE/$1), or $2 for a sandbox from
# before that choice existed; empty for a new sandbox.
recorded_choice() {
  if [[ -f "${STATE}/$1" ]]; then
    cat -- "${STATE}/$1"
  elif [[ -f "${STATE}/sandbox-id" ]]; then
    printf '%s\n' "$2"
  fi
}

# allowed CHOICE VALUE: VALUE is one of CHOICES[CHOICE].
allowed() {
  [[ " ${CHOICES[$1]} " == *" $2 "* ]]
}

# An existing sandbox keeps its choice (its images, deployment files and database
# are made for it); only an explicit request for another one is an error. Prints
# the settled value of $1 (driver|os|layout).
settled_choice() {
  local recorded requested="${REQUESTED[$1]}" default="${CHOICES[$1]%% *}"
  recorded="$(recorded_choice "$1" "${default}")"
  [[ -n "${recorded}" ]] || { printf '%s\n' "${requested:-${default}}"; return 0; }
  allowed "$1" "${recorded}" || die "unknown $1 '${recorded}' in ${STATE}/$1"
  if [[ -n "${requested}" && "${requested}" != "${recorded}" ]]; then
    die "sandbox '${NAME}' uses $1 ${recorded}, not ${requested}; run 'scripts/sandbox.sh down ${NAME}' first"
  fi
  printf '%s\n' "${recorded}"
}

resolve_choices() {
  DRIVER="$(settled_choice driver)"
  OS="$(settled_choice os)"
  LAYOUT="$(settled_choice layout)"
}

# What the modules under sandbox/ (and scripts/sandbox-env.ts) are told about this
# sandbox; the fixtures name them as @NAME@ (sandbox/render.py).
export_fixture_values() {
  export SANDBOX_NAME="${NAME}" SANDBOX_STATE="${STATE}" SANDBOX_CONTAINER="${CONTAINER}" \
    SANDBOX_DEPLOY="${DEPLOY}" SANDBOX_LAYOUT="${LAYOUT}" SANDBOX_DRIVER="${DRIVER}" \
    SANDBOX_PROJECT="${PROJECT}" SANDBOX_PREFIX="${CONTAINER}-" SANDBOX_STANDIN_INTERVAL="${STANDIN_INTERVAL}" \
    SANDBOX_MYSQL_SERVICE="${MYSQL_SERVICE}" SANDBOX_MYSQL_PORT="${MYSQL_PORT}" \
    SANDBOX_MYSQL_DATABASE="${MYSQL_DATABASE}" SANDBOX_MYSQL_USER="${MYSQL_USER}" \
    SANDBOX_ENV_NAME="${ENV_NAME}" SANDBOX_KEY="${KEY}" SANDBOX_SSH_USER="${SSH_USER}" SANDBOX_SSH_HOST="${SSH_HOST}"
}

# --- docker and ssh helpers -------------------------------------------------

# The modules that know the target container and the compose stack.
target() {
  export_fixture_values
  "${REPO_ROOT}/sandbox/target.sh" "$@"
}

stack() {
  export_fixture_values
  "${REPO_ROOT}/sandbox/stack.sh" "$@"
}

# SSH_TIMEOUT (seconds, default 30) bounds the whole command, so a hung remote
# command cannot stall `up`/`down` forever. -F /dev/null: the operator's own
# ~/.ssh/config must not change how we connect.
ssh_target() {
  timeout "${SSH_TIMEOUT:-30}" ssh -F /dev/null -i "${KEY}" -p "${PORT}" \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o BatchMode=yes -o IdentitiesOnly=yes -o ConnectTimeout=5 -o LogLevel=ERROR \
    "${SSH_USER}@${SSH_HOST}" "$@"
}

# Runs compose with the given arguments as root in DEPLOY on the target: the v2
# plugin when the target has one (trixie; Docker's own packages may have no
# docker-compose at all), else v1's docker-compose. The arguments are fixed words
# of this script; printf %q: the path and the script go through the login shell.
compose_in_target() {
  local script='if docker compose version >/dev/null 2>&1; then exec docker compose "$@"; fi; exec docker-compose "$@"'
  ssh_target "cd $(printf '%q' "${DEPLOY}") && sudo bash -c $(printf '%q' "${script}") compose $*"
}

# --- up ---------------------------------------------------------------------

prepare_state() {
  local choice
  local -A chosen=([driver]="${DRIVER}" [os]="${OS}" [layout]="${LAYOUT}")
  target claim
  if [[ ! -f "${STATE}/sandbox-id" ]]; then
    # Containers of an earlier incarnation of this sandbox (STATE deleted by hand, a
    # half-finished `down`) still mount deleted directories.
    stack remove
    target remove
    install -d -m 0700 "${STATE}"
    # Ties the target container to this STATE (sandbox/target.sh).
    cat /proc/sys/kernel/random/uuid >"${STATE}/sandbox-id"
  fi
  for choice in driver os layout; do
    [[ -f "${STATE}/${choice}" ]] || printf '%s\n' "${chosen[${choice}]}" >"${STATE}/${choice}"
  done
  mkdir -p "${STATE}/logs" "${DEPLOY}"
  if [[ ! -f "${KEY}" ]]; then
    log "generating SSH key ${KEY}"
    ssh-keygen -q -t ed25519 -N '' -C "tracker-backup-sandbox-${NAME}" -f "${KEY}"
  elif [[ ! -f "${KEY}.pub" ]]; then
    ssh-keygen -y -f "${KEY}" >"${KEY}.pub"
  fi
  chmod 0600 "${KEY}"
}

wait_for_ssh() {
  local deadline=$((SECONDS + SSH_WAIT_SECONDS)) err=""
  log "waiting for SSH on ${SSH_HOST}:${PORT}"
  until err="$(SSH_TIMEOUT=15 ssh_target true 2>&1)"; do
    if [[ "$(target state)" != "running" ]]; then
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

cmd_up() {
  local target_image
  require_commands docker ssh ssh-keygen sqlite3 python3 node iconv flock timeout realpath
  acquire_lock
  resolve_choices
  export_fixture_values
  log "bringing up sandbox '${NAME}' (state ${STATE}, driver ${DRIVER}, os ${OS}, layout ${LAYOUT})"
  prepare_state
  target_image="$("${REPO_ROOT}/sandbox/images.sh" "${OS}" "${DRIVER}" "${LAYOUT}" "${STATE}/logs")" || exit 1
  "${REPO_ROOT}/sandbox/deployment.sh"
  target start "${target_image}"
  PORT="$(target port)" || die "cannot read the published SSH port of ${CONTAINER}"
  wait_for_ssh
  if [[ "${LAYOUT}" == deployer ]]; then
    log "installing the deployer's cron file, maintenance script and log on the target"
    "${REPO_ROOT}/sandbox/deployer/host-files.sh" "${CONTAINER}"
  fi
  log "starting the tracker stack from inside the target (compose $(SSH_TIMEOUT=15 compose_in_target version --short 2>/dev/null || true))"
  SSH_TIMEOUT=300 compose_in_target up -d >&2 || die "'compose up -d' in ${DEPLOY} on the target failed"
  stack wait
  pin_cpus
  if [[ "${LAYOUT}" == deployer ]]; then
    log "writing legacy backups (no manifests) into ${DEPLOY}/storage/backup"
    "${REPO_ROOT}/sandbox/deployer/legacy-backups.sh" "${DEPLOY}" "${DRIVER}" \
      "$(stack container "${MYSQL_SERVICE}")" "${MYSQL_DATABASE}" || die "could not write the legacy backups"
  fi
  # Produced and validated by the project's own loader, which reads the MySQL password
  # from its file: it never passes through this script.
  mkdir -p "$(dirname "${ENV_FILE}")"
  SANDBOX_SSH_PORT="${PORT}" "${REPO_ROOT}/node_modules/.bin/tsx" "${SCRIPT_DIR}/sandbox-env.ts" "${ENV_FILE}" \
    || die "could not write ${ENV_FILE}"
  log "wrote environment file ${ENV_FILE}"
  log "sandbox '${NAME}' ready: ssh -i ${KEY} -p ${PORT} ${SSH_USER}@${SSH_HOST}"
  printf '%s\n' "${ENV_FILE}"
}

# A benchmark reads the CPU time of the target apart from the controller's (bench/hosts.sh);
# pinning keeps them on different cores too. Containers compose starts later are not pinned.
pin_cpus() {
  local -a ids
  [[ -n "${CPUS}" ]] || return 0
  mapfile -t ids < <(docker ps -q --filter "label=com.docker.compose.project=${PROJECT}")
  log "pinning ${CONTAINER} and its ${#ids[@]} stack container(s) to CPUs ${CPUS}"
  docker update --cpuset-cpus "${CPUS}" "${CONTAINER}" "${ids[@]}" >/dev/null
}

# --- down -------------------------------------------------------------------

compose_down() {
  if [[ "$(target state)" == "running" && -f "${KEY}" && -f "${DEPLOY}/docker-compose.yml" ]] \
    && PORT="$(target port)"; then
    log "stopping the tracker stack from inside the target"
    SSH_TIMEOUT=120 compose_in_target down --volumes --remove-orphans >&2 && return 0
  fi
  [[ -f "${DEPLOY}/docker-compose.yml" ]] && command -v docker-compose >/dev/null 2>&1 || return 0
  log "stopping the tracker stack directly on the host"
  (cd "${DEPLOY}" && timeout 120 docker-compose -p "${PROJECT}" down --volumes --remove-orphans) >&2 || true
}

cmd_down() {
  require_commands docker flock timeout realpath
  acquire_lock
  log "tearing down sandbox '${NAME}'"
  # Each step tolerates failure: `down` must clean up half-created sandboxes.
  compose_down
  stack remove
  target remove
  if [[ -e "${STATE}" ]]; then
    log "deleting ${STATE}"
    # The tracker writes as root; when this script is not root, a throwaway
    # container deletes what we cannot.
    rm -rf -- "${STATE}" 2>/dev/null || docker run --rm -v "${SANDBOX_ROOT}:/sandbox-root" debian:bookworm-slim \
      rm -rf -- "/sandbox-root/${NAME}" || warn "could not delete ${STATE}"
  fi
  # Only an environment file `up` wrote for this state dir is deleted: one of the
  # same name that points elsewhere is someone else's.
  if [[ -f "${ENV_FILE}" ]] && grep -qF "\"deploy_dir\": \"${DEPLOY}\"" "${ENV_FILE}"; then
    rm -f -- "${ENV_FILE}"
    log "deleted ${ENV_FILE}"
  elif [[ -f "${ENV_FILE}" ]]; then
    warn "keeping ${ENV_FILE}: it does not describe ${DEPLOY}"
  fi
  [[ -z "$(target state)" && -z "$(docker ps -aq --filter "label=com.docker.compose.project=${PROJECT}")" && ! -e "${STATE}" ]] \
    || die "sandbox '${NAME}' is not completely removed"
  log "sandbox '${NAME}' removed"
}

# --- status -----------------------------------------------------------------

cmd_status() {
  require_commands docker realpath
  local state tracker count ssh_state="-" mysql="" rc=0
  DRIVER="$(recorded_choice driver sqlite3)"
  DRIVER="${DRIVER:-sqlite3}"
  OS="$(recorded_choice os bookworm)"
  state="$(target state)"
  tracker="$(stack container tracker Status)"
  if [[ "${state}" == "running" ]] && PORT="$(target port)"; then
    ssh_state="failing"
    [[ -f "${KEY}" ]] && SSH_TIMEOUT=15 ssh_target true 2>/dev/null && ssh_state="ok"
  fi
  count="$(stack rows)" || count="-"
  printf 'sandbox:          %s\n' "${NAME}"
  printf 'driver:           %s\n' "${DRIVER}"
  printf 'os:               %s\n' "${OS:--}"
  printf 'target container: %s (%s)\n' "${CONTAINER}" "${state:-absent}"
  printf 'ssh:              %s@%s port %s (login %s)\n' "${SSH_USER}" "${SSH_HOST}" "${PORT:--}" "${ssh_state}"
  printf 'tracker:          %s (compose project %s)\n' "${tracker:-absent}" "${PROJECT}"
  if [[ "${DRIVER}" == "mysql" ]]; then
    mysql="$(stack health)"
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
  local cmd="${1:-}" name="" arg option value hint
  case "${cmd}" in
    -h | --help | help) usage && return 0 ;;
    up | down | status) shift ;;
    "") usage >&2 && die "missing command" ;;
    *) usage >&2 && die "unknown command: ${cmd}" ;;
  esac
  REQUESTED[driver]="${TRACKER_BACKUP_SANDBOX_DRIVER:-}"
  REQUESTED[os]="${TRACKER_BACKUP_SANDBOX_OS:-}"
  while (($# > 0)); do
    arg="$1"
    shift
    case "${arg}" in
      --driver | --driver=* | --os | --os=* | --layout | --layout=*)
        option="${arg%%=*}"
        [[ "${cmd}" == "up" ]] || die "${option} only applies to 'up'"
        if [[ "${arg}" == *=* ]]; then
          value="${arg#*=}"
        else
          (($# > 0)) || die "${arg} needs a value; see scripts/sandbox.sh --help"
          value="$1"
          shift
        fi
        REQUESTED[${option#--}]="${value}"
        ;;
      --cpus | --cpus=*)
        [[ "${cmd}" == "up" ]] || die "--cpus only applies to 'up'"
        if [[ "${arg}" == *=* ]]; then
          CPUS="${arg#*=}"
        else
          (($# > 0)) || die "--cpus needs a value; see scripts/sandbox.sh --help"
          CPUS="$1"
          shift
        fi
        [[ "${CPUS}" =~ ^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$ ]] \
          || die "unsupported --cpus '${CPUS}': use a cpuset such as 1, 0-1 or 0,2"
        ;;
      -*) die "unknown option: ${arg}" ;;
      *)
        [[ -z "${name}" ]] || die "too many arguments; see scripts/sandbox.sh --help"
        name="${arg}"
        ;;
    esac
  done
  for option in driver os layout; do
    value="${REQUESTED[${option}]}"
    [[ "${cmd}" != up || -z "${value}" ]] || allowed "${option}" "${value}" && continue
    hint="--${option}"
    [[ "${option}" == layout ]] || hint+=" / TRACKER_BACKUP_SANDBOX_${option^^}"
    die "unsupported ${option} '${value}' (${hint}): use ${CHOICES[${option}]// / or }"
  done
  init_paths "${name:-default}"
  "cmd_${cmd}"
}

main "$@"
