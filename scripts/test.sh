#!/usr/bin/env bash
# test.sh: the whole test suite, as CI runs it (npm test): lint, typecheck, unit tests,
# end-to-end tests against a real sandbox target, and the role's Molecule scenario.
# Run as root on a machine prepared by scripts/setup.sh (Docker daemon running).
# Ends with one line "N passed, N failed" (test cases plus the non-test checks).
set -euo pipefail

cd "$(dirname "$0")/.."

PASSED=0
FAILED=0
SKIPPED=0
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

# vitest's own counts, read from its JSON report.
vitest_project() {
  local project="$1" report="$REPORTS/$1.json" counts
  log "== vitest $project"
  npx vitest run --project "$project" --reporter=default --reporter=json --outputFile.json="$report" || true
  if [[ ! -s "$report" ]]; then
    FAILED=$((FAILED + 1))
    log "== vitest $project produced no report"
    return 0
  fi
  counts="$(node -e 'const r=require(process.argv[1]); console.log(r.numPassedTests, r.numFailedTests + (r.numTotalTestSuites > 0 && !r.success && r.numFailedTests === 0 ? 1 : 0), r.numPendingTests + r.numTodoTests)' "$report")"
  read -r passed failed skipped <<<"$counts"
  PASSED=$((PASSED + passed))
  FAILED=$((FAILED + failed))
  SKIPPED=$((SKIPPED + skipped))
}

main() {
  check "lint (ansible-lint, yamllint, shellcheck)" scripts/lint.sh
  check "typecheck (tsc)" npx tsc --noEmit -p .
  vitest_project unit
  vitest_project e2e
  check "molecule scenario (default)" scripts/molecule.sh default
  rm -rf "$REPORTS"
  if ((SKIPPED > 0)); then
    printf '%d passed, %d failed, %d skipped\n' "$PASSED" "$FAILED" "$SKIPPED"
  else
    printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
  fi
  ((FAILED == 0))
}

main "$@"
