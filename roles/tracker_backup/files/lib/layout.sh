# shellcheck shell=bash
# Globals below are read by the scripts that source this file.
# shellcheck disable=SC2034
# The backup store's layout, in one place: sourced by the host program (tracker-backup)
# and by the backup container's backup.sh, so the names a run writes are the names
# listing, verification, retention and restore look for. A new backup kind or compressor
# starts here.
#
#   <store>/<kind>/<kind>_<YYYYMMDD_HHMMSS>.<extension>.<compression suffix>
#   <store>/manifests/manifest_<YYYYMMDD_HHMMSS>.sha256   (sha256sum format, paths relative to <store>)
#   <store>/status.json                                   (the last run)

# Kinds of backup file and the extension of each before compression.
readonly LAYOUT_KINDS=(sqlite mysql config)
declare -grA LAYOUT_EXTENSION=([sqlite]=db [mysql]=sql [config]=tar)
# backup.compression -> file suffix. Every suffix stays readable after a switch.
readonly LAYOUT_COMPRESSIONS=(gzip zstd)
declare -grA LAYOUT_SUFFIX=([gzip]=gz [zstd]=zst)
# DATABASE_DRIVER -> the kind its database backups are.
declare -grA LAYOUT_DRIVER_KIND=([sqlite3]=sqlite [mysql]=mysql)
readonly LAYOUT_MANIFESTS=manifests
readonly LAYOUT_STATUS=status.json
readonly LAYOUT_STAMP='[0-9]{8}_[0-9]{6}'

# A backup file's name: layout_name KIND STAMP COMPRESSION -> sqlite/sqlite_<stamp>.db.gz
layout_name() {
  printf '%s/%s_%s.%s.%s' "$1" "$1" "$2" "${LAYOUT_EXTENSION[$1]}" "${LAYOUT_SUFFIX[$3]}"
}

layout_manifest() {
  printf '%s/manifest_%s.sha256' "$LAYOUT_MANIFESTS" "$1"
}

# The regular expression a backup file's path (relative to the store) matches; with KIND,
# only that kind's. Captures: 1 the kind, 2 the stamp.
layout_pattern() {
  local kind="${1:-}" kinds suffixes extensions
  kinds="$(IFS='|' && printf '%s' "${kind:-${LAYOUT_KINDS[*]}}")"
  extensions="$(IFS='|' && printf '%s' "${LAYOUT_EXTENSION[*]}")"
  suffixes="$(IFS='|' && printf '%s' "${LAYOUT_SUFFIX[*]}")"
  printf '^(%s)/[a-z]+_(%s)\\.(%s)\\.(%s)$' "$kinds" "$LAYOUT_STAMP" "$extensions" "$suffixes"
}

# The regular expression a manifest's path matches. Capture 1: the stamp.
layout_manifest_pattern() {
  printf '^%s/manifest_(%s)\\.sha256$' "$LAYOUT_MANIFESTS" "$LAYOUT_STAMP"
}

# True when PATH (relative to the store) is a backup file's name; sets LAYOUT_KIND and
# LAYOUT_STAMP_OF. The kind's prefix and extension must agree with its directory.
layout_parse() {
  [[ "$1" =~ $(layout_pattern "") ]] || return 1
  LAYOUT_KIND="${BASH_REMATCH[1]}"
  LAYOUT_STAMP_OF="${BASH_REMATCH[2]}"
  [[ "${1#*/}" == "${LAYOUT_KIND}_"* && "${BASH_REMATCH[3]}" == "${LAYOUT_EXTENSION[$LAYOUT_KIND]}" ]]
}

# The stamp's UTC time in ISO 8601: 20260210_030000 -> 2026-02-10T03:00:00Z
layout_iso() {
  local s="$1"
  printf '%s-%s-%sT%s:%s:%sZ' "${s:0:4}" "${s:4:2}" "${s:6:2}" "${s:9:2}" "${s:11:2}" "${s:13:2}"
}

# A run stages its snapshot in <store>/.staging/<stamp>/ until it is published. A restore
# keeps the safety copy of the database it replaces there too, marked with
# LAYOUT_SAFETY_MARK, until the tracker runs again and the copy is published.
readonly LAYOUT_STAGING=.staging
# What the off-site step uploads: the run's checked, uncompressed database and its config
# archive under names that stay the same every day, so restic finds the unchanged chunks.
readonly LAYOUT_OFFSITE_UPLOAD=.offsite-upload
# The off-site step's answer to the run: KEY=value lines (see backup.sh offsite).
readonly LAYOUT_OFFSITE_RESULT=.offsite-result
readonly LAYOUT_SAFETY_MARK=.restore-safety
readonly LAYOUT_UNPUBLISHED_SAFETY=unpublished-safety

# Clears what a dead run left staged, except a restore's safety copy: a restore killed
# between swapping the database and publishing the copy leaves there the only copy of the
# previous state, so it is moved to <store>/unpublished-safety_<stamp>/ (where a restore
# that cannot publish it keeps it too) and said in the log. Usage: layout_clear_staging STORE
layout_clear_staging() {
  local store="$1" dir kept
  for dir in "$store/$LAYOUT_STAGING"/*/; do
    dir="${dir%/}"
    [[ -f "$dir/$LAYOUT_SAFETY_MARK" && ! -L "$dir" ]] || continue
    kept="$store/${LAYOUT_UNPUBLISHED_SAFETY}_${dir##*/}"
    if mv -T -- "$dir" "$kept"; then
      log WARN "An interrupted restore left its safety copy of the previous database unpublished; kept as $kept"
    fi
  done
  rm -rf -- "${store:?}/$LAYOUT_STAGING"
}
