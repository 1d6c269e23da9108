#!/usr/bin/env bash
# shellcheck disable=SC2016 # backticks in the printed markdown
# cli.sh: the CLI's start-up cost (P5: validate and render take at most 0.5 s of wall time),
# as medians over several runs, each with its ratio to `node -e 0` measured in the same
# run: the compiled CLI (dist/), the same through `npx tracker-backup` (npm's own start-up
# added), and the `npm run` aliases' way (tsx compiling src/ on every start); then one
# `ansible-galaxy collection install` of the built collection against ansible-galaxy's start-up.
#
# Usage: bench/cli.sh [RUNS]   (default 9)
# Needs: npm ci done (it builds dist/ through `prepare`; `npm run build` after edits).
# Prints markdown.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly LIMIT_MS=500

# wall_ms CMD...: one run's wall time in ms; fails when CMD fails.
wall_ms() {
  local start
  start="$(date +%s%N)"
  "$@" >/dev/null
  echo $((($(date +%s%N) - start) / 1000000))
}

# median_ms RUNS CMD...: the median of RUNS runs of CMD, after one unmeasured warm-up.
median_ms() {
  local runs="$1" i
  local -a times=()
  shift
  "$@" >/dev/null
  for ((i = 0; i < runs; i++)); do
    times+=("$(wall_ms "$@")")
  done
  median "${times[@]}"
}

main() {
  local runs="${1:-9}" base ms line label verdict
  local -a command
  cd "$REPO_ROOT"
  [[ -f dist/cli/bin.js ]] || die "dist/cli/bin.js is missing: run npm run build"
  export NO_COLOR=1
  say "timing $runs runs of each command"
  base="$(median_ms "$runs" node -e 0)"
  printf '## CLI start-up (bench/cli.sh %s)\n\n' "$runs"
  printf 'Machine: %s CPU(s), Node %s. Median of %s runs; P5 limit %s ms for validate and render.\n\n' \
    "$(nproc)" "$(node --version)" "$runs" "$LIMIT_MS"
  printf '| command | median (ms) | ÷ `node -e 0` | P5 |\n|---|---|---|---|\n'
  printf '| `node -e 0` | %s | 1.00 | |\n' "$base"
  for line in \
    "node dist/cli/bin.js --version" \
    "node dist/cli/bin.js validate --env envs/example.json" \
    "node dist/cli/bin.js render --env envs/example.json --out $WORK/out" \
    "npx --no-install tracker-backup validate --env envs/example.json" \
    "npx tsx src/cli/bin.ts validate --env envs/example.json"; do
    read -r -a command <<<"$line"
    ms="$(median_ms "$runs" "${command[@]}")"
    label="${line//$WORK/\$TMP}"
    verdict=""
    case "$line" in
      'node dist/cli/bin.js validate'* | 'node dist/cli/bin.js render'*)
        if ((ms <= LIMIT_MS)); then verdict="met"; else verdict="MISSED"; fi
        ;;
    esac
    printf '| `%s` | %s | %s | %s |\n' "$label" "$ms" "$(ratio "$ms" "$base")" "$verdict"
  done
  collection_install "$runs"
}

# The collection as an Ansible user installs it: one `ansible-galaxy collection install` of
# the built tarball into an empty path, against ansible-galaxy's own start-up.
collection_install() {
  local runs="$1" tarball base ms i
  local -a times=()
  tarball="$(scripts/collection.sh build "$WORK/collection" 2>/dev/null)"
  base="$(median_ms "$runs" ansible-galaxy --version)"
  for ((i = 0; i < runs; i++)); do
    rm -rf "$WORK/collections"
    times+=("$(wall_ms ansible-galaxy collection install -p "$WORK/collections" "$tarball")")
  done
  ms="$(median "${times[@]}")"
  printf '\n## Collection install (bench/cli.sh %s)\n\n' "$runs"
  printf '| command | median (ms) | ÷ `ansible-galaxy --version` |\n|---|---|---|\n'
  printf '| `ansible-galaxy --version` | %s | 1.00 |\n' "$base"
  printf '| `ansible-galaxy collection install -p $TMP/collections %s` | %s | %s |\n' "$(basename "$tarball")" "$ms" "$(ratio "$ms" "$base")"
}

main "$@"
