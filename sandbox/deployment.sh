#!/usr/bin/env bash
#
# Writes the operator's pre-existing tracker deployment into a sandbox's deploy directory
# from the fixtures beside this script: the compose file and .env of the layout
# (standard/ or deployer/), tracker.toml with the driver's [core.database] section
# (database/), the Prometheus and Grafana files (deployment/, laid out as in the deploy
# directory), for MySQL the password file, and for the deployer layout its backup.conf
# and backup-paths.txt. Every @NAME@ in a fixture is filled in by render.py.
#
# A file that exists is kept: it belongs to the operator's deployment, and a second
# `up` must not undo what a test changed in it.
#
# Run by scripts/sandbox.sh up, as root. Environment: SANDBOX_DEPLOY, SANDBOX_LAYOUT
# (standard|deployer), SANDBOX_DRIVER (sqlite3|mysql) and every other SANDBOX_* value
# the fixtures name; TRACKER_BACKUP_SANDBOX_MYSQL_PASSWORD (see scripts/sandbox.sh).
set -euo pipefail

FIXTURES="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly FIXTURES
readonly PASSWORD_FILE="storage/mysql/etc/tracker-password"
# Quotes, a command substitution, backticks, spaces, a backslash and an Ansible
# template: whatever passes this password along unescaped breaks (or runs
# `touch /tmp/pwned`), so the default exercises every layer that handles it.
# shellcheck disable=SC2016 # nothing here is meant to expand
readonly DEFAULT_MYSQL_PASSWORD='p'\''"$(touch /tmp/pwned) `id` sp ace\back{{x}}'

log() {
  printf '[%s] %s: %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$1" "${*:2}" >&2
}

die() {
  log ERROR "$*"
  exit 1
}

# A fixture with its @NAME@ placeholders filled in, on stdout.
render() {
  python3 "${FIXTURES}/render.py" "${FIXTURES}/$1"
}

# Writes stdin to $1 (relative to the deploy directory) unless it exists, through a
# temporary name so that a failed write leaves no half file.
write_if_missing() {
  local path="${SANDBOX_DEPLOY}/$1"
  if [[ -e "${path}" ]]; then
    # Drained so that a writer piping into us does not die of SIGPIPE
    # (which pipefail would turn into a failure).
    cat >/dev/null
    return 0
  fi
  mkdir -p "$(dirname "${path}")"
  cat >"${path}.tmp.$$"
  mv -f "${path}.tmp.$$" "${path}"
}

# install_fixture FIXTURE PATH: FIXTURE rendered to PATH in the deploy directory.
install_fixture() {
  render "$1" | write_if_missing "$2"
}

# The password, read exactly (the "x" keeps trailing newlines).
mysql_password() {
  local password
  password="$(cat -- "${SANDBOX_DEPLOY}/${PASSWORD_FILE}" && printf x)" || die "cannot read ${PASSWORD_FILE}"
  printf '%s' "${password%x}"
}

# The password file is the only copy the deployment has: the mysql service creates
# tracker_user with it on its first start, the stand-in tracker logs in with it. A later
# `up` keeps it, since the database user already exists.
ensure_mysql_password() {
  local file="${SANDBOX_DEPLOY}/${PASSWORD_FILE}"
  local requested="${TRACKER_BACKUP_SANDBOX_MYSQL_PASSWORD:-${DEFAULT_MYSQL_PASSWORD}}"
  install -d -m 0700 "$(dirname "${file}")"
  if [[ -f "${file}" ]]; then
    if [[ -n "${TRACKER_BACKUP_SANDBOX_MYSQL_PASSWORD:-}" && "$(mysql_password && printf x)" != "${requested}x" ]]; then
      log WARN "keeping the password in ${file}: tracker_user already exists with it; TRACKER_BACKUP_SANDBOX_MYSQL_PASSWORD only applies to a new sandbox"
    fi
    return 0
  fi
  # The environment file is JSON, which cannot carry arbitrary bytes.
  printf '%s' "${requested}" | iconv -f UTF-8 -t UTF-8 >/dev/null 2>&1 \
    || die "TRACKER_BACKUP_SANDBOX_MYSQL_PASSWORD is not valid UTF-8"
  # printf '%s': no trailing newline, the file holds exactly the password.
  (umask 077 && printf '%s' "${requested}" >"${file}.tmp.$$")
  chmod 0600 "${file}.tmp.$$"
  mv -f "${file}.tmp.$$" "${file}"
}

# The deployer's compose file and .env (0640), and its backup settings, owned by its SSH
# user (uid 1000 on the target) as on a real host.
deployer_files() {
  local etc="storage/backup/etc"
  log INFO "laying ${SANDBOX_DEPLOY} out as the Torrust Tracker Deployer does (fixtures in sandbox/deployer)"
  mkdir -p "${SANDBOX_DEPLOY}/storage/tracker/log"
  install_fixture "deployer/docker-compose.${SANDBOX_DRIVER}.yml" docker-compose.yml
  install_fixture deployer/env .env
  chmod 0640 "${SANDBOX_DEPLOY}/docker-compose.yml" "${SANDBOX_DEPLOY}/.env"
  [[ ! -e "${SANDBOX_DEPLOY}/${etc}" ]] || return 0
  install -d -m 0755 -o 1000 -g 1000 "${SANDBOX_DEPLOY}/${etc}"
  if [[ "${SANDBOX_DRIVER}" == mysql ]]; then
    # The deployer keeps it in clear in this 0644 file; so does the fixture.
    SANDBOX_MYSQL_PASSWORD="$(mysql_password)" install_fixture deployer/backup.conf.mysql "${etc}/backup.conf"
  else
    install_fixture deployer/backup.conf.sqlite3 "${etc}/backup.conf"
  fi
  install_fixture deployer/backup-paths.txt "${etc}/backup-paths.txt"
  (cd "${SANDBOX_DEPLOY}" && chmod 0644 "${etc}/backup.conf" "${etc}/backup-paths.txt" \
    && chown 1000:1000 "${etc}/backup.conf" "${etc}/backup-paths.txt" docker-compose.yml .env)
}

main() {
  local file
  log INFO "ensuring the pre-existing tracker deployment in ${SANDBOX_DEPLOY} (driver ${SANDBOX_DRIVER})"
  mkdir -p "${SANDBOX_DEPLOY}/storage/tracker/lib/database"
  if [[ "${SANDBOX_DRIVER}" == mysql ]]; then
    # The data directory ends up owned by the container's mysql user.
    mkdir -p "${SANDBOX_DEPLOY}/storage/mysql/data"
    ensure_mysql_password
  fi
  if [[ "${SANDBOX_LAYOUT}" == deployer ]]; then
    deployer_files
  else
    install_fixture "standard/docker-compose.${SANDBOX_DRIVER}.yml" docker-compose.yml
    # A fixed project name keeps several sandboxes on one daemon apart and makes the
    # name independent of the directory (always "torrust").
    install_fixture standard/env .env
  fi
  SANDBOX_TRACKER_DATABASE="$(render "database/tracker.${SANDBOX_DRIVER}.toml")"
  export SANDBOX_TRACKER_DATABASE
  while IFS= read -r -d '' file; do
    install_fixture "deployment/${file}" "${file}"
  done < <(cd "${FIXTURES}/deployment" && find . -type f -printf '%P\0')
}

main "$@"
