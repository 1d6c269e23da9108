#!/usr/bin/env bash
#
# Entrypoint of tracker-backup-sandbox/mariadb (PID 1).
#
# On the first start (empty data directory) it initialises MariaDB, creates the
# tracker's database and user, and stops the temporary server again. Then it
# replaces itself with mariadbd, so mariadbd is PID 1 and `docker stop`'s
# SIGTERM makes it shut down cleanly at once.
#
# What the first start creates:
#   - database TRACKER_DATABASE (InnoDB is the default engine);
#   - user TRACKER_USER@'%' with ALL PRIVILEGES on that database only (no global
#     privileges such as PROCESS), password = the exact bytes of
#     TRACKER_PASSWORD_FILE (any characters; a trailing newline would be part of
#     the password, so write the file with printf '%s');
#   - root@localhost authenticated only by unix_socket: root can log in only
#     inside this container, as the OS user root, through the socket.
#
# The password never passes through a shell variable, a command line or an SQL
# string literal: the file is hex-encoded with od and the hash is computed by
# the server from the hex literal.
#
# Where it runs: inside the `mysql` service of a sandbox deployment started by
# scripts/sandbox.sh (--driver mysql), with the data directory bind-mounted.
#
# Environment (all optional):
#   TRACKER_PASSWORD_FILE  default /run/secrets/tracker-password
#   TRACKER_DATABASE       default torrust_tracker   (letters, digits, "_")
#   TRACKER_USER           default tracker_user      (letters, digits, "_")
#   Arguments are passed on to mariadbd.
set -euo pipefail

readonly DATADIR="/var/lib/mysql"
readonly RUN_DIR="/run/mysqld"
readonly INIT_SOCKET="${RUN_DIR}/init.sock"
readonly INIT_MARKER="${DATADIR}/.sandbox-init-in-progress"
readonly PASSWORD_FILE="${TRACKER_PASSWORD_FILE:-/run/secrets/tracker-password}"
readonly DATABASE="${TRACKER_DATABASE:-torrust_tracker}"
readonly DB_USER="${TRACKER_USER:-tracker_user}"
readonly INIT_WAIT_SECONDS=60

INIT_PID=""

log() {
  printf '[%s] INFO: %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$*" >&2
}

die() {
  printf '[%s] ERROR: %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$*" >&2
  exit 1
}

# A `docker stop` during initialisation must not leave the temporary server
# behind (nor wait for the grace period).
on_signal() {
  if [[ -n "${INIT_PID}" ]]; then
    kill -TERM "${INIT_PID}" 2>/dev/null || true
    wait "${INIT_PID}" 2>/dev/null || true
  fi
  exit 143
}

# Both names go into SQL as identifiers: only a safe character set is accepted.
check_names() {
  [[ "${DATABASE}" =~ ^[A-Za-z0-9_]{1,64}$ ]] || die "invalid TRACKER_DATABASE '${DATABASE}' (letters, digits, _)"
  [[ "${DB_USER}" =~ ^[A-Za-z0-9_]{1,80}$ ]] || die "invalid TRACKER_USER '${DB_USER}' (letters, digits, _)"
}

# The password as lowercase hex, read byte for byte from the file.
password_hex() {
  local hex
  hex="$(od -An -v -tx1 -- "${PASSWORD_FILE}" | tr -d ' \n')"
  [[ "${hex}" =~ ^[0-9a-f]+$ ]] || die "cannot hex-encode ${PASSWORD_FILE}"
  printf '%s' "${hex}"
}

# Data files written by someone else (e.g. a restore run as root) would stop
# the server from starting; mariadbd runs as mysql.
fix_ownership() {
  find "${DATADIR}" \! -user mysql -exec chown mysql:mysql '{}' +
}

start_init_server() {
  local waited=0
  # No TCP at all while the users are being set up.
  mariadbd --user=mysql --datadir="${DATADIR}" --skip-networking \
    --socket="${INIT_SOCKET}" --pid-file="${RUN_DIR}/init.pid" &
  INIT_PID=$!
  until mariadb-admin --socket="${INIT_SOCKET}" --user=root --silent ping >/dev/null 2>&1; do
    kill -0 "${INIT_PID}" 2>/dev/null || die "the temporary MariaDB server exited during initialisation"
    ((waited < INIT_WAIT_SECONDS * 5)) || die "the temporary MariaDB server did not start in ${INIT_WAIT_SECONDS}s"
    sleep 0.2
    waited=$((waited + 1))
  done
}

stop_init_server() {
  mariadb-admin --socket="${INIT_SOCKET}" --user=root shutdown
  wait "${INIT_PID}" || die "the temporary MariaDB server failed to shut down cleanly"
  INIT_PID=""
}

# The SQL goes to the client on stdin. The password appears only as a hex
# literal (characters 0-9a-f), so no quoting or escaping is involved, whatever
# sql_mode says; PASSWORD() hashes exactly those bytes, which is what a client
# sends for the same password.
setup_sql() {
  local hex="$1"
  cat <<SQL
-- root: unix_socket only (mariadb-install-db also allows an unusable
-- password). The socket-only superuser mysql@localhost is not needed.
ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket;
DROP USER IF EXISTS 'mysql'@'localhost';
DELETE FROM mysql.proxies_priv WHERE NOT (User = 'root' AND Host = 'localhost');
CREATE DATABASE IF NOT EXISTS \`${DATABASE}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
SET @tracker_password = X'${hex}';
EXECUTE IMMEDIATE CONCAT('CREATE USER ''${DB_USER}''@''%'' IDENTIFIED BY PASSWORD ''', PASSWORD(@tracker_password), '''');
SET @tracker_password = NULL;
GRANT ALL PRIVILEGES ON \`${DATABASE}\`.* TO '${DB_USER}'@'%';
FLUSH PRIVILEGES;
SQL
}

initialise() {
  local hex
  [[ -f "${PASSWORD_FILE}" && -r "${PASSWORD_FILE}" ]] || die "password file ${PASSWORD_FILE} is missing (mount it read-only)"
  [[ -s "${PASSWORD_FILE}" ]] || die "password file ${PASSWORD_FILE} is empty"
  hex="$(password_hex)"

  if [[ -e "${INIT_MARKER}" ]]; then
    # Only ever our own half-finished initialisation: start over.
    log "an earlier initialisation was interrupted; starting it again"
    find "${DATADIR}" -mindepth 1 -delete
  fi
  touch "${INIT_MARKER}"

  log "initialising the data directory ${DATADIR}"
  mariadb-install-db --user=mysql --datadir="${DATADIR}" \
    --auth-root-authentication-method=socket --skip-test-db --skip-name-resolve >/dev/null

  start_init_server
  log "creating database ${DATABASE} and user '${DB_USER}'@'%'"
  setup_sql "${hex}" | mariadb --socket="${INIT_SOCKET}" --user=root --batch
  stop_init_server

  fix_ownership
  rm -f "${INIT_MARKER}"
  log "initialisation finished"
}

main() {
  check_names
  trap on_signal TERM INT
  install -d -m 0755 -o mysql -g mysql "${RUN_DIR}"
  chown mysql:mysql "${DATADIR}"

  if [[ -d "${DATADIR}/mysql" && ! -e "${INIT_MARKER}" ]]; then
    log "data directory ${DATADIR} already initialised"
    fix_ownership
  else
    initialise
  fi

  trap - TERM INT
  log "starting mariadbd"
  exec mariadbd --user=mysql "$@"
}

main "$@"
