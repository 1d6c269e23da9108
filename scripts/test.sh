#!/usr/bin/env bash
# test.sh: the whole test suite, as CI runs it (npm test): lint, typecheck, unit tests,
# end-to-end tests against real sandbox targets in two cells (Debian 12 targets with compose
# v1 driven by this machine's ansible-core 2.14: every e2e file; Debian 13 targets with
# compose v2 driven by ansible-core 2.19 in a container: the files where the target's
# compose or the controller's version changes what runs, see V2_FILES), and the role's
# Molecule scenario.
# Run as root on a machine prepared by scripts/setup.sh (Docker daemon running).
# Ends with one line "N passed, N failed" (test cases plus the non-test checks).
set -euo pipefail

cd "$(dirname "$0")/.."

PASSED=0
FAILED=0
SKIPPED=0
CELLS=()
REPORTS="$(mktemp -d /tmp/tracker-backup-test.XXXXXX)"
readonly REPORTS

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

# vitest's own counts, read from its JSON report. Usage: vitest_project LABEL PROJECT [FILE...]
vitest_project() {
  local label="$1" project="$2" report="$REPORTS/$1.json" counts
  shift 2
  log "== vitest $label"
  npx vitest run --project "$project" --reporter=default --reporter=json --outputFile.json="$report" "$@" || true
  if [[ ! -s "$report" ]]; then
    FAILED=$((FAILED + 1))
    log "== vitest $project produced no report"
    return 0
  fi
  counts="$(node -e 'const r=require(process.argv[1]); console.log(r.numPassedTests, r.numFailedTests + (r.numTotalTestSuites > 0 && !r.success && r.numFailedTests === 0 ? 1 : 0), r.numPendingTests + r.numTodoTests)' "$report")"
  read -r passed failed skipped <<<"$counts"
  CELLS+=("$label: $passed passed, $failed failed")
  PASSED=$((PASSED + passed))
  FAILED=$((FAILED + failed))
  SKIPPED=$((SKIPPED + skipped))
}

main() {
  check "lint (eslint, ansible-lint, yamllint, shellcheck)" scripts/lint.sh
  check "typecheck (tsc)" npx tsc --noEmit -p .
  vitest_project unit unit
  vitest_project "e2e bookworm, compose v1, ansible-core 2.14" e2e
  TRACKER_BACKUP_SANDBOX_OS=trixie TRACKER_BACKUP_CONTROLLER=2.19 \
    vitest_project "e2e trixie, compose v2, ansible-core 2.19" e2e "${V2_FILES[@]}"
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
