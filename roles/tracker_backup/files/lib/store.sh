# shellcheck shell=bash
# Globals below are read by the program that sources this file.
# shellcheck disable=SC2034
# Reading the backup store for `tracker-backup list`, `verify` and `status`, and the JSON
# they answer with. Load lib.sh, layout.sh and host.sh first; run from the deploy directory.

JSON=false

# VALUE as a JSON string: backslash and quote escaped, every control character as \u00XX
# (bash strings hold no NUL). Other characters, non-ASCII included, pass as they are.
json_str() {
  local s="$1" backslash=\\ quote='"' char escaped i
  s="${s//"$backslash"/"$backslash$backslash"}"
  s="${s//"$quote"/"$backslash$quote"}"
  for ((i = 1; i < 32; i++)); do
    printf -v char '%b' "\\x$(printf '%02x' "$i")"
    [[ "$s" == *"$char"* ]] || continue
    printf -v escaped '\\u%04x' "$i"
    s="${s//"$char"/"$escaped"}"
  done
  printf '"%s"' "$s"
}

# --json, the one flag every subcommand takes (and only flag of most). With it, stdout
# carries one JSON document and nothing else: log lines go to stderr, the document to
# descriptor 3. Usage: parse_json_flag COMMAND ARGS...
parse_json_flag() {
  local command="$1"
  shift
  while (($# > 0)); do
    case "$1" in
      --json) JSON=true ;;
      -h | --help) usage 0 ;;
      *) usage_error "$command: unknown argument: $1" ;;
    esac
    shift
  done
  if [[ "$JSON" == true ]]; then
    exec 3>&1 1>&2
  fi
}

# The store's backup files (paths relative to it, by kind, then oldest first), their
# sizes and sha256 sums, and what the manifests expect of each. Only names of the layout
# count: hidden partial files, foreign files and links are not backups.
STORE_FILES=()
declare -gA STORE_BYTES=() STORE_SUM=() STORE_EXPECTED=()
scan_store() {
  local kind name path sum bytes manifest
  local -a names=()
  for kind in "${LAYOUT_KINDS[@]}"; do
    [[ -d "$BACKUP_DIR/$kind" ]] || continue
    mapfile -t names < <(find "$BACKUP_DIR/$kind" -maxdepth 1 -type f -printf '%f\n' | LC_ALL=C sort)
    for name in "${names[@]}"; do
      layout_parse "$kind/$name" && [[ "$LAYOUT_KIND" == "$kind" ]] && STORE_FILES+=("$kind/$name")
    done
  done
  if ((${#STORE_FILES[@]} > 0)); then
    while read -r bytes path; do
      STORE_BYTES["$path"]="$bytes"
    done < <(cd "$BACKUP_DIR" && stat -c '%s %n' -- "${STORE_FILES[@]}")
    while read -r sum path; do
      STORE_SUM["$path"]="$sum"
    done < <(cd "$BACKUP_DIR" && sha256sum -- "${STORE_FILES[@]}")
  fi
  [[ -d "$BACKUP_DIR/$LAYOUT_MANIFESTS" ]] || return 0
  while IFS= read -r manifest; do
    [[ "$LAYOUT_MANIFESTS/$manifest" =~ $(layout_manifest_pattern) ]] || continue
    # Only entries with a backup's name: a manifest never sends the check elsewhere.
    while read -r sum path; do
      if layout_parse "$path" && [[ "$sum" =~ ^[0-9a-f]{64}$ ]]; then
        STORE_EXPECTED["$path"]="$sum"
      fi
    done <"$BACKUP_DIR/$LAYOUT_MANIFESTS/$manifest"
  done < <(find "$BACKUP_DIR/$LAYOUT_MANIFESTS" -maxdepth 1 -type f -printf '%f\n' | LC_ALL=C sort)
}

# A file's checksum verdict: verified (its manifest's sum), mismatch, missing (listed in a
# manifest, not in the store) or legacy (in no manifest: nothing to check it against).
verdict() {
  local path="$1"
  if [[ -z "${STORE_EXPECTED[$path]+set}" ]]; then
    printf legacy
  elif [[ -z "${STORE_SUM[$path]+set}" ]]; then
    printf missing
  elif [[ "${STORE_SUM[$path]}" == "${STORE_EXPECTED[$path]}" ]]; then
    printf verified
  else
    printf mismatch
  fi
}

# One backup as a JSON object: backup_json PATH
backup_json() {
  local path="$1" sum="null" expected="null" bytes="null"
  layout_parse "$path"
  [[ -z "${STORE_SUM[$path]+set}" ]] || sum="$(json_str "${STORE_SUM[$path]}")"
  [[ -z "${STORE_EXPECTED[$path]+set}" ]] || expected="$(json_str "${STORE_EXPECTED[$path]}")"
  [[ -z "${STORE_BYTES[$path]+set}" ]] || bytes="${STORE_BYTES[$path]}"
  printf '{"kind": %s, "path": %s, "stamp": %s, "taken_at": %s, "bytes": %s, "sha256": %s, "expected_sha256": %s, "checksum": %s}' \
    "$(json_str "$LAYOUT_KIND")" "$(json_str "$path")" "$(json_str "$LAYOUT_STAMP_OF")" \
    "$(json_str "$(layout_iso "$LAYOUT_STAMP_OF")")" "$bytes" "$sum" "$expected" "$(json_str "$(verdict "$path")")"
}

# PATHS... as a JSON array, one object a line.
backups_json() {
  local path first=true
  printf '['
  for path in "$@"; do
    [[ "$first" == true ]] || printf ','
    first=false
    printf '\n    %s' "$(backup_json "$path")"
  done
  [[ "$first" == true ]] || printf '\n  '
  printf ']'
}

# status.json (the last run) checked to be one JSON object. Sets LAST_RUN_JSON (the
# object, or null when there is none or it is unreadable) and LAST_RUN_TEXT (one line).
# python3 parses it: it is on every host Ansible manages.
read_last_run() {
  local file="$BACKUP_DIR/$LAYOUT_STATUS" answer
  LAST_RUN_JSON=null
  LAST_RUN_TEXT="none recorded"
  [[ -e "$file" ]] || return 0
  if ! answer="$(python3 -c '
import json, sys
with open(sys.argv[1], encoding="utf-8") as f:
    run = json.load(f)
if not isinstance(run, dict):
    sys.exit(1)
print(json.dumps(run))
print("%s (exit code %s) at %s, tracker down %ss" % tuple(run.get(k) for k in ("result", "exit_code", "finished", "tracker_downtime_seconds")))
' "$file" 2>/dev/null)"; then
    log WARN "$PWD/$file is not a JSON object; the last run is shown as none"
    return 0
  fi
  LAST_RUN_JSON="${answer%%$'\n'*}"
  LAST_RUN_TEXT="${answer#*$'\n'}"
}

# Off-site snapshots (docs/offsite.md). The backup image reads the repository (backup.sh
# offsite-snapshots / offsite-fetch: the secrets stay in etc/offsite/, read by restic
# there) into a root-only work directory of the store; the caller removes OFFSITE_WORK on
# exit. On failure OFFSITE_MESSAGE says why, in one line.
OFFSITE_WORK=""
OFFSITE_MESSAGE=""

# Usage: offsite_container LABEL COMMAND [ARGS...]: backup.sh COMMAND WORKDIR ARGS...
offsite_container() {
  local label="$1" command="$2"
  shift 2
  OFFSITE_MESSAGE=""
  if [[ -z "$OFFSITE_WORK" ]]; then
    OFFSITE_WORK="$(mktemp -d "$BACKUP_DIR/.offsite-get-XXXXXXXX")" \
      || { OFFSITE_MESSAGE="cannot create a work directory in $PWD/$BACKUP_DIR" && return 1; }
  fi
  run_backup_container "$label" -- "$command" "${OFFSITE_WORK##*/}" "$@" && return 0
  if [[ -f "$OFFSITE_WORK/error" && ! -L "$OFFSITE_WORK/error" ]]; then
    OFFSITE_MESSAGE="$(head -n 1 -- "$OFFSITE_WORK/error" | cut -c 1-300)"
  else
    OFFSITE_MESSAGE="the backup container's $command step failed (see the lines above)"
  fi
  return 1
}

# restic's snapshot list (OFFSITE_WORK/snapshots.json) read by python3 (on every host
# Ansible manages). Usage: offsite_snapshots list | pick AT
#   list: one JSON array (oldest first) of {id, short_id, stamp, time, kinds, paths, bytes},
#         then one line per snapshot for people;
#   pick: "ID STAMP" of the newest snapshot with a stamp tag (with AT a stamp: that one's).
# A kind comes from a path's name (.db sqlite, .sql mysql, .tar.* config), whatever
# directory the off-site step uploaded it from; bytes is restic's own figure when it
# records one (restic 0.17 and later), else null.
offsite_snapshots() {
  python3 -c '
import datetime, json, re, sys
mode, path = sys.argv[1], sys.argv[2]
with open(path, encoding="utf-8") as f:
    raw = json.load(f)
def kind(p):
    name = p.rsplit("/", 1)[-1]
    if name.endswith(".db"): return "sqlite"
    if name.endswith(".sql"): return "mysql"
    if re.search(r"\.tar(\.[a-z0-9]+)?$", name): return "config"
    return None
def utc(t):
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)$", t or "")
    if not m: return None
    when = datetime.datetime.strptime(m.group(1) + m.group(2).replace("Z", "+00:00"), "%Y-%m-%dT%H:%M:%S%z")
    return when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
snaps = []
for s in raw if isinstance(raw, list) else []:
    if not isinstance(s, dict) or not re.fullmatch(r"[0-9a-f]{64}", str(s.get("id"))): continue
    stamps = [t[6:] for t in s.get("tags") or [] if re.fullmatch(r"stamp:\d{8}_\d{6}", str(t))]
    paths = [str(p) for p in s.get("paths") or []]
    size = (s.get("summary") or {}).get("total_bytes_processed")
    snaps.append({"id": s["id"], "short_id": s["id"][:8], "stamp": stamps[0] if stamps else None,
                  "time": utc(s.get("time")), "kinds": sorted({k for k in map(kind, paths) if k}),
                  "paths": paths, "bytes": size if isinstance(size, int) else None})
snaps.sort(key=lambda s: (s["time"] or "", s["id"]))
if mode == "list":
    print(json.dumps(snaps))
    for s in snaps:
        print("  %s  %s  %s  %s" % (s["stamp"] or "(no stamp)", s["time"], s["short_id"], " ".join(s["kinds"])))
    sys.exit(0)
chosen = [s for s in snaps if s["stamp"] and sys.argv[3] in ("latest", s["stamp"])]
if not chosen: sys.exit(1)
print(chosen[-1]["id"], chosen[-1]["stamp"])
' "$1" "$OFFSITE_WORK/snapshots.json" "${2:-}"
}
