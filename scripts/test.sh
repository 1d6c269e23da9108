#!/usr/bin/env bash
# test.sh: the whole test suite, as CI runs it (npm test): lint, typecheck, unit tests,
# end-to-end tests against real sandbox targets in two cells (Debian 12 targets with compose
# v1 driven by this machine's ansible-core 2.14: every e2e file; Debian 13 targets with
# compose v2 driven by ansible-core 2.19 in a container: the files where the target's
# compose or the controller's version changes what runs, see V2_FILES), and the role's
# Molecule scenario.
# Run as root on a machine prepared by scripts/setup.sh (Docker daemon running).
# Ends with one line "N passed, N failed" (test cases plus the non-test checks).
#
# Layout in time (docs/sandbox.md, "The e2e suite in CI"): an e2e file spends most of its
# time waiting on SSH, Docker and compose, not on the CPU, so the e2e files run in three
# lanes side by side, each lane one vitest process taking its files one at a time: the
# first cell's V2_FILES, the first cell's other files, and the second cell. Each lane's
# sandboxes carry its own pid in their names. The sandbox images are built once, up front
# (while lint and the unit tests run), so that no lane builds the same tag as another: each
# `sandbox.sh up` then only finds them in the build cache. A lane's output goes to its own
# file, printed whole when every lane has ended; the per-cell lines add up the lanes.
# `scripts/test.sh lanes` prints which lane runs which file and runs nothing.
set -euo pipefail

cd "$(dirname "$0")/.."

PASSED=0
FAILED=0
SKIPPED=0
CELLS=()
# Set by main: vitest's reports, the lanes' output and the image build logs.
REPORTS=""

log() {
  printf '[%s] INFO: %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S')" "$*"
}

# A check that is not a vitest test counts as one test.
check() {
  local name="$1"
  shift
  log "== $name"
  if "$@"; then
    PASSED=$((PASSED + 1))
  else
    FAILED=$((FAILED + 1))
    log "== $name FAILED"
  fi
}

# The second cell: what runs compose on the target (stop/start, run, the lock and signals
# around it, the guide's `docker compose` commands as the deploy user, taking over the
# deployer's layout with both drivers), restores, and the role's logic that 2.19 judges more strictly (string
# booleans). Left to the first cell, to keep CI well under 45 minutes: validation, many
# hosts and the platform probe, which do not depend on the target's compose or the
# controller's version; the link checks of the stop-mode copy and of restores (plain bash
# and coreutils on either OS); and mysql.test.ts, whose password matrix is about Ansible and
# the backup image, not the target's compose.
readonly V2_FILES=(
  test/e2e/provision.test.ts
  test/e2e/runtime.test.ts
  test/e2e/restore.test.ts
  test/e2e/safety-lock.test.ts
  test/e2e/safety-role.test.ts
  test/e2e/deploy-user.test.ts
  test/e2e/deployer-layout.test.ts
  test/e2e/ansible-native.test.ts
  test/e2e/alerts.test.ts
)

# The images every sandbox and the 2.19 controller are built from. Built once before the
# lanes start: otherwise the first `sandbox.sh up` of each lane builds the same tags at the
# same moment, and sandbox/images.sh's prune of untagged images can delete a layer that
# another lane's build is about to use.
build_images() {
  sandbox/images.sh bookworm mysql standard "$REPORTS" >/dev/null &&
    sandbox/images.sh trixie mysql standard "$REPORTS" >/dev/null &&
    scripts/controller.sh build
}

# Usage: vitest_run REPORT VITEST_ARGS...; vitest's exit code.
vitest_run() {
  local report="$1"
  shift
  npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
}

# vitest's own counts, read from its JSON reports and added up into one cell line.
# Usage: count_cell LABEL REPORT...
count_cell() {
  local label="$1" report counts passed failed skipped cell_passed=0 cell_failed=0
  shift
  for report in "$@"; do
    if [[ ! -s "$report" ]]; then
      cell_failed=$((cell_failed + 1))
      log "== vitest $label: $(basename "$report" .json) produced no report"
      continue
    fi
    counts="$(node -e 'const r=require(process.argv[1]); console.log(r.numPassedTests, r.numFailedTests + (r.numTotalTestSuites > 0 && !r.success && r.numFailedTests === 0 ? 1 : 0), r.numPendingTests + r.numTodoTests)' "$report")"
    read -r passed failed skipped <<<"$counts"
    cell_passed=$((cell_passed + passed))
    cell_failed=$((cell_failed + failed))
    SKIPPED=$((SKIPPED + skipped))
  done
  CELLS+=("$label: $cell_passed passed, $cell_failed failed")
  PASSED=$((PASSED + cell_passed))
  FAILED=$((FAILED + cell_failed))
}

LANES=()
LANE_PIDS=()

# An e2e lane: one vitest process in the background taking the lane's files (lane_plan)
# one at a time, its output in $REPORTS/LANE.log. The cell's TRACKER_BACKUP_* variables come
# from the caller. --no-cache: the lanes would otherwise all rewrite vitest's one results
# cache when they end.
# Usage: start_lane LANE
start_lane() {
  local lane="$1" files=()
  mapfile -t files < <(lane_plan | sed -n "s|^$lane ||p")
  log "== e2e lane $lane: ${#files[@]} files, output below once every lane has ended"
  vitest_run "$REPORTS/$lane.json" --project e2e --no-cache "${files[@]}" >"$REPORTS/$lane.log" 2>&1 &
  LANES+=("$lane")
  LANE_PIDS+=("$!")
}

# Waits for every lane, saying when each ends, then prints each lane's output whole.
wait_lanes() {
  local started="$SECONDS" pid rc lane i
  local -A running=()
  for i in "${!LANE_PIDS[@]}"; do
    running["${LANE_PIDS[$i]}"]="${LANES[$i]}"
  done
  while ((${#running[@]} > 0)); do
    rc=0
    wait -n -p pid "${!running[@]}" || rc=$?
    log "== e2e lane ${running[$pid]} ended after $(((SECONDS - started) / 60)) min $(((SECONDS - started) % 60)) s (vitest exit $rc)"
    unset "running[$pid]"
  done
  for lane in "${LANES[@]}"; do
    log "== e2e lane $lane: output"
    cat -- "$REPORTS/$lane.log"
  done
}

# Which lane runs which e2e file, one "LANE FILE" line each (`scripts/test.sh lanes`): the
# first cell's V2_FILES, the first cell's other files, the second cell's V2_FILES.
lane_plan() {
  local file
  printf 'bookworm-v2 %s\n' "${V2_FILES[@]}"
  for file in test/e2e/*.test.ts; do
    [[ " ${V2_FILES[*]} " == *" $file "* ]] || printf 'bookworm-rest %s\n' "$file"
  done
  printf 'trixie %s\n' "${V2_FILES[@]}"
}

main() {
  local images
  if [[ "${1:-}" == lanes ]]; then
    lane_plan
    return 0
  fi
  REPORTS="$(mktemp -d /tmp/tracker-backup-test.XXXXXX)"
  build_images >"$REPORTS/images.log" 2>&1 &
  images=$!
  check "lint (eslint, ansible-lint, yamllint, shellcheck)" scripts/lint.sh
  check "typecheck (tsc)" npx tsc --noEmit -p .
  log "== vitest unit"
  vitest_run "$REPORTS/unit.json" --project unit || true
  count_cell unit "$REPORTS/unit.json"
  log "== sandbox and controller images"
  # Not a test: a lane whose images are missing builds them itself, and fails if it cannot.
  wait "$images" || { cat -- "$REPORTS/images.log"; log "== building the images up front failed; each lane builds its own"; }
  start_lane bookworm-v2
  start_lane bookworm-rest
  TRACKER_BACKUP_SANDBOX_OS=trixie TRACKER_BACKUP_CONTROLLER=2.19 start_lane trixie
  wait_lanes
  count_cell "e2e bookworm, compose v1, ansible-core 2.14" "$REPORTS/bookworm-v2.json" "$REPORTS/bookworm-rest.json"
  count_cell "e2e trixie, compose v2, ansible-core 2.19" "$REPORTS/trixie.json"
  check "molecule scenario (default)" scripts/molecule.sh default
  rm -rf "$REPORTS"
  printf '%s\n' "${CELLS[@]}"
  if ((SKIPPED > 0)); then
    printf '%d passed, %d failed, %d skipped\n' "$PASSED" "$FAILED" "$SKIPPED"
  else
    printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
  fi
  ((FAILED == 0))
}

main "$@"
