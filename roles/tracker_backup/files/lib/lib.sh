# shellcheck shell=bash
# Shared by maintenance-backup.sh (on the host) and backup.sh (in the backup container),
# so both write the same log format and read backup.conf the same way.

# The guide's log format: [YYYY-MM-DD HH:MM:SS] LEVEL: message, in UTC like the schedule.
log() {
  local level="$1"
  shift
  printf '[%s] %s: %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S')" "$level" "$*"
}

die() {
  log ERROR "$*"
  exit 1
}

require_tools() {
  local tool
  local -a missing=()
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  ((${#missing[@]} == 0)) || die "required tools are missing: ${missing[*]}"
}

# Replaces FILE with CONTENT: a temp file in FILE's own directory (the same filesystem, so
# the rename is atomic, and as private as that directory), synced, then renamed over FILE.
# A reader sees the old file or the new one; a failed write (a full disk) keeps the old
# one and says why. The temp name is hidden and ends in .partial, which every cleanup of
# leftovers already removes. With GID, the file is made 0640 root:GID before the rename
# (what the deploy user's group may read: manifests, status.json); without, it keeps
# mktemp's 0600 root.
# Usage: replace_file FILE CONTENT [GID]
replace_file() {
  local file="$1" content="$2" gid="${3:-}" error
  # The subshell keeps the temp name to itself and hands back what failed, for the log.
  if ! error="$(
    exec 2>&1
    tmp="$(mktemp --suffix=.partial "$(dirname -- "$file")/.$(basename -- "$file").XXXXXX")" || exit 1
    if ! { printf '%s' "$content" >"$tmp" && sync -- "$tmp" \
      && { [[ -z "$gid" ]] || { chgrp -- "$gid" "$tmp" && chmod 0640 -- "$tmp"; }; } \
      && mv -f -- "$tmp" "$file"; }; then
      rm -f -- "$tmp"
      exit 1
    fi
  )"; then
    log ERROR "could not write $file (the previous version is kept): ${error//$'\n'/; }"
    return 1
  fi
}

declare -gA CONFIG=()

# KEY=value lines into CONFIG. Values are kept verbatim and never evaluated: the file
# holds operator-supplied names, so sourcing it would run whatever they contain.
load_config() {
  local file="$1" line key
  [[ -r "$file" ]] || die "cannot read $file"
  while IFS= read -r line || [[ -n "$line" ]]; do
    [[ -z "$line" || "$line" == '#'* ]] && continue
    key="${line%%=*}"
    if [[ "$line" != *=* || ! "$key" =~ ^[A-Z][A-Z0-9_]*$ ]]; then
      die "$file: not a KEY=value line: ${line:0:60}"
    fi
    CONFIG["$key"]="${line#*=}"
  done <"$file"
}

# BACKUP_GID in backup.conf (written by the role): the numeric group that may read
# backups, manifests and status.json, the deploy user's. Without it, root's group (0), so
# nobody else reads them. Sets BACKUP_GID; a value that is not a number stops the run.
load_backup_gid() {
  BACKUP_GID="${CONFIG[BACKUP_GID]:-0}"
  [[ "$BACKUP_GID" =~ ^[0-9]+$ ]] || die "BACKUP_GID must be a numeric group id, not '${BACKUP_GID:0:60}'"
}

config() {
  [[ -n "${CONFIG[$1]+set}" ]] || die "setting $1 is missing from backup.conf"
  printf '%s' "${CONFIG[$1]}"
}
