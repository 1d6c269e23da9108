#!/usr/bin/env bash
# lint.sh: the static checks: ESLint with typescript-eslint's type-checked rules on the
# TypeScript (eslint.config.js), ansible-lint (production profile; the role and playbooks, then
# the assembled collection with its galaxy.yml), yamllint, boolean role
# variables read only through `| bool` (lint-bools.py), and bash -n plus shellcheck on
# every shell script we ship or run.
# Run from anywhere on a machine prepared by scripts/setup.sh. Exits non-zero on any finding.
set -euo pipefail

cd "$(dirname "$0")/.."

shell_scripts() {
  git ls-files --cached --others --exclude-standard -- '*.sh' .ci/run roles/tracker_backup/files/tracker-backup
}

main() {
  local status=0 script
  # The locally installed ESLint (package-lock.json); --no-install never fetches another.
  npx --no-install eslint . || status=1
  ansible-lint --offline roles/tracker_backup playbooks || status=1
  scripts/collection.sh lint || status=1
  yamllint --strict . || status=1
  scripts/lint-bools.py || status=1
  while IFS= read -r script; do
    bash -n "$script" || status=1
  done < <(shell_scripts)
  # -x follows `source` lines, so the scripts are checked with the library they load.
  mapfile -t scripts < <(shell_scripts)
  shellcheck -x -P roles/tracker_backup/files/lib "${scripts[@]}" || status=1
  return "$status"
}

main "$@"
