# shellcheck shell=bash
# Shared by the host scripts and backup.sh (in the backup container), so all write the
# same log format, read backup.conf the same way and restore files by the same rules.

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

# Restores (by backup.sh in the container, by tracker-backup-restore.sh on the host) write
# as root into directories the tracker's containers can write too, where a
# planted link could send a write elsewhere (over docker-compose.yml, or into /backups).
# So no path is opened from /restore down: the walk enters one directory at a time,
# refuses a link, and after each cd checks that it arrived where it meant to, which also
# catches a link swapped in between the check and the cd. Missing directories are created
# (mode 0700 as tar gives them, or, with TREE, the mode of the same directory under TREE).
# Usage, in a subshell (it keeps the cd): enter_restore_dir DIR [TREE], DIR under RESTORE
# (the deploy directory: /restore in the container, the current directory on the host).
enter_restore_dir() {
  local dir="$1" tree="${2:-}" here walked="" component created
  local -a components=()
  cd -P -- "$RESTORE" || die "cannot enter $RESTORE"
  here="$(pwd -P)"
  IFS=/ read -r -a components <<<"$dir"
  for component in "${components[@]}"; do
    [[ -n "$component" && "$component" != . ]] || continue
    walked+="${walked:+/}$component"
    [[ "$component" != .. ]] || die "$dir leads outside the deploy directory; not restoring into it"
    [[ ! -L "$component" ]] || die "$walked is a symbolic link; not restoring through it"
    created=false
    if [[ ! -e "$component" ]]; then
      mkdir -- "$component" || die "cannot create $walked"
      created=true
    fi
    [[ -d "$component" ]] || die "$walked is not a directory; not restoring into it"
    cd -P -- "$component" || die "cannot enter $walked"
    here="${here%/}/$component"
    [[ "$(pwd -P)" == "$here" ]] || die "$walked changed while the restore entered it; stopped"
    # `.` is the directory just entered, whatever its name leads to by now.
    if [[ "$created" == true && -n "$tree" ]]; then
      chmod -- "$(stat -c %a -- "$tree/$walked")" . || die "cannot set the mode of $walked"
    fi
  done
}

# The same rules checked without touching anything, so that a restore that would meet a
# link stops before its first file is written. Usage: check_restore_path PATH file|directory
# (no directory on PATH's way is a link or a non-directory; a file's PATH is no directory).
check_restore_path() {
  local path="$1" kind="$2" walked="" component
  local -a components=()
  IFS=/ read -r -a components <<<"$path"
  for component in "${components[@]}"; do
    [[ -n "$component" && "$component" != . ]] || continue
    walked+="${walked:+/}$component"
    if [[ "$kind" == file && "$walked" == "$path" ]]; then
      # A link at the file's own name is replaced by the rename, not followed.
      [[ -L "$RESTORE/$path" || ! -d "$RESTORE/$path" ]] || die "$path is a directory; not restoring a file over it"
      return 0
    fi
    [[ ! -L "$RESTORE/$walked" ]] || die "$walked is a symbolic link; not restoring through it"
    [[ -e "$RESTORE/$walked" ]] || return 0
    [[ -d "$RESTORE/$walked" ]] || die "$walked is not a directory; not restoring into it"
  done
}

# Usage, inside the target directory: install_here STAGED NAME [link]. STAGED (under a
# root-only staging directory) already has the mode and owner NAME is to get. With
# `link`, STAGED is given a second name here (same filesystem: no data is copied) when
# it can be; a staged file is never written again, so sharing it is safe.
install_here() {
  local staged="$1" name="$2" how="${3:-copy}" temp
  temp="$(mktemp -- ./.restore-XXXXXXXX)" || die "cannot create a temporary file next to $name"
  # link(2) and cp both create the temporary name anew, exclusively, after removing
  # mktemp's file: a link put at the name in the meantime makes them fail; it is never
  # followed. cp then writes and sets mode and owner through its own descriptor.
  if ! { [[ "$how" == link ]] && rm -f -- "$temp" && ln -T -- "$staged" "$temp" 2>/dev/null; } \
    && ! cp --remove-destination --preserve=mode,ownership -T -- "$staged" "$temp"; then
    rm -f -- "$temp"
    die "cannot write $name"
  fi
  # rename(2) replaces whatever is at NAME, a link included, without following it.
  if ! mv -fT -- "$temp" "$name"; then
    rm -f -- "$temp"
    die "cannot put $name in place"
  fi
}

# Puts the checked database STAGED (root-only staging directory) in place as DATABASE
# (relative to RESTORE), with the owner and mode of the file it replaces: the tracker
# must still be able to open it. LABEL names the backup in the log.
# Usage: install_sqlite STAGED DATABASE LABEL
install_sqlite() {
  local staged="$1" database="$2" label="$3"
  (
    local name info type owner group mode
    enter_restore_dir "$(dirname -- "$database")"
    name="$(basename -- "$database")"
    if [[ -e "$name" || -L "$name" ]]; then
      # One lstat for type, owner and mode; what is not a regular file is not replaced.
      info="$(stat -c '%F|%u|%g|%a' -- "$name")" || die "cannot read the attributes of $database"
      IFS='|' read -r type owner group mode <<<"$info"
      [[ "$type" == "regular file" || "$type" == "regular empty file" ]] \
        || die "$database is a $type, not a regular file; not restoring over it"
      chown -- "$owner:$group" "$staged" || die "cannot give the restored database the owner of $database"
      chmod -- "$mode" "$staged" || die "cannot give the restored database the mode of $database"
    fi
    # A journal left by the old database would be replayed into the new one; rm removes
    # a link itself, never its target.
    rm -f -- "$name-journal" "$name-wal" "$name-shm" || die "cannot remove the old journal of $database"
    install_here "$staged" "$name" link
  ) || return 1
  log INFO "Restored SQLite database $database from $label"
}

# Puts every file of the checked, extracted archive TREE in place under RESTORE, each by
# the link-safe walk, once no path of it meets a link. LABEL names the archive in the log.
# Usage: install_tree TREE LABEL
install_tree() {
  local tree="$1" label="$2" path
  local -a tree_directories=() tree_files=()
  mapfile -t tree_directories < <(cd "$tree" && find . -mindepth 1 -type d -printf '%P\n' | LC_ALL=C sort)
  mapfile -t tree_files < <(cd "$tree" && find . -type f -printf '%P\n' | LC_ALL=C sort)
  for path in "${tree_directories[@]}"; do
    (check_restore_path "$path" directory) || return 1
  done
  for path in "${tree_files[@]}"; do
    (check_restore_path "$path" file) || return 1
  done
  for path in "${tree_directories[@]}"; do
    (enter_restore_dir "$path" "$tree") || return 1
  done
  for path in "${tree_files[@]}"; do
    (
      enter_restore_dir "$(dirname -- "$path")" "$tree"
      install_here "$tree/$path" "$(basename -- "$path")" link
    ) || return 1
  done
  log INFO "Restored config files from $label: ${#tree_files[@]} file(s)"
}
