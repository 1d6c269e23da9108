#!/usr/bin/env bash
# shellcheck disable=SC2016 # backticks in the printed markdown
# checks.sh: what each way of copying and checking an SQLite database costs, on one
# generated database, inside the backup image (its sqlite3): the choices behind the
# snapshot (cp while stopped, VACUUM INTO while online) and the check (quick_check).
#
# Usage: bench/checks.sh [SIZE_MB]   (default 1000)
# Needs: scripts/setup.sh done, root. Prints markdown.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly IMAGE=tracker-backup-bench:checks

main() {
  local size="${1:-1000}" line label command ms cp_ms=0
  mkdir -p "$WORK/data"
  docker build -q -t "$IMAGE" "$REPO_ROOT/roles/tracker_backup/files/lib" >&2
  say "generating a $size MB tracker database"
  "$BENCH_DIR/gen-sqlite.sh" "$size" "$WORK/data/tracker.db"
  cat "$WORK/data/tracker.db" >/dev/null
  printf '## SQLite copy and check methods (bench/checks.sh %s)\n\n%s\n\n' "$size" "$(machine)"
  printf '| step | command | time (s) | ÷ `cp` |\n|---|---|---|---|\n'
  for line in \
    "copy (stop mode)|cp tracker.db copy.db" \
    "snapshot (online mode)|sqlite3 tracker.db \"VACUUM INTO 'vacuum.db'\"" \
    "the guide's snapshot|sqlite3 tracker.db '.backup backup.db'" \
    "check (ours)|sqlite3 copy.db 'PRAGMA quick_check'" \
    "full check|sqlite3 copy.db 'PRAGMA integrity_check'"; do
    IFS='|' read -r label command <<<"$line"
    say "$label"
    ms="$(docker run --rm --entrypoint bash -w /w -v "$WORK/data:/w" "$IMAGE" -c \
      "s=\$(date +%s%3N); $command >/dev/null; echo \$((\$(date +%s%3N) - s))")"
    ((cp_ms > 0)) || cp_ms="$ms"
    printf '| %s | `%s` | %s | %s |\n' "$label" "$command" "$(secs "$ms")" "$(ratio "$ms" "$cp_ms")"
  done
  docker image rm "$IMAGE" >/dev/null 2>&1 || true
}

main "$@"
