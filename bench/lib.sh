# shellcheck shell=bash
# Shared by the bench/ scripts: timing, sandbox targets, the CLI, result tables.
# Every script prints markdown tables on stdout and progress on stderr, so
#   bench/<script>.sh > result.md
# keeps a result that can be pasted into docs/performance.md as it is.

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(dirname "$BENCH_DIR")"
readonly BENCH_DIR REPO_ROOT
WORK="$(mktemp -d /var/tmp/tracker-backup-bench.XXXXXX)"
readonly WORK

say() {
  printf '[%s] bench: %s\n' "$(date -u '+%H:%M:%S')" "$*" >&2
}

die() {
  say "ERROR: $*"
  exit 1
}

now_ms() {
  date +%s%3N
}

# Milliseconds as seconds with two decimals.
secs() {
  awk -v ms="$1" 'BEGIN { printf "%.2f", ms / 1000 }'
}

# ratio A B: A / B with two decimals ("-" when B is 0).
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2f", a / b }'
}

# MB/s for BYTES in MS milliseconds.
rate() {
  awk -v bytes="$1" -v ms="$2" 'BEGIN { if (ms == 0) print "-"; else printf "%.1f", bytes / 1000000 / (ms / 1000) }'
}

# median of integers given as arguments.
median() {
  printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%d\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Busy CPU time of the whole machine so far, in ms (all cores; USER_HZ is 100 on Linux).
cpu_busy_ms() {
  awk '/^cpu / { print ($2 + $3 + $4 + $7 + $8 + $9) * 10; exit }' /proc/stat
}

# timed CMD...: runs CMD (output to stderr), prints its wall time in ms and returns its
# status (callers check it: errexit does not reach into a command substitution).
timed() {
  local start status=0
  start="$(now_ms)"
  "$@" >&2 || status=$?
  echo $(($(now_ms) - start))
  return "$status"
}

cleanup() {
  local name
  # A file, not an array: sandbox_up runs in a command substitution's subshell.
  if [[ -f "$WORK/sandboxes" ]]; then
    while IFS= read -r name; do
      "$REPO_ROOT/scripts/sandbox.sh" down "$name" </dev/null >/dev/null 2>&1 || true
    done <"$WORK/sandboxes"
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# sandbox_up NAME [sandbox.sh options]: prints the env file of a new sandbox target.
sandbox_up() {
  local name="$1"
  shift
  echo "$name" >>"$WORK/sandboxes"
  TRACKER_BACKUP_ENV_DIR="$WORK/envs" "$REPO_ROOT/scripts/sandbox.sh" up "$name" "$@" 2>/dev/null | tail -n 1
}

# provisioned_target NAME: a new sandbox target NAME, provisioned by the tool; sets DEPLOY to
# its deploy directory on this machine.
provisioned_target() {
  local env
  say "bringing up sandbox target $1"
  env="$(sandbox_up "$1")"
  # shellcheck disable=SC2034 # read by the bench scripts that source this file
  DEPLOY="$(deploy_dir_of "$env")"
  say "provisioning it"
  cli provision --env "$env" --out "$WORK/ansible" || die "provision failed"
}

sandbox_down() {
  "$REPO_ROOT/scripts/sandbox.sh" down "$1" >/dev/null 2>&1 || true
}

deploy_dir_of() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["deploy_dir"])' "$1"
}

# on_target NAME SCRIPT: runs SCRIPT with bash as root in the target, from its deploy dir.
on_target() {
  local name="$1" script="$2" deploy
  deploy="$(deploy_dir_of "$WORK/envs/sandbox-$name.json")"
  docker exec -w "$deploy" "tbsandbox-$name" bash -c "$script"
}

# timed_on_target NAME SCRIPT: SCRIPT's wall time in ms, clocked inside the target so
# that `docker exec` itself (1-2 s on a busy machine) is not counted.
timed_on_target() {
  on_target "$1" "start=\$(date +%s%3N); { $2 ; } >&2; echo \$((\$(date +%s%3N) - start))"
}

# Run in the target from its deploy dir: the stand-in tracker's container ids.
# shellcheck disable=SC2016 # expands in the target
readonly TRACKER_IDS_ON_TARGET='$(docker-compose ps -q tracker)'

# signal_start NAME: ms to stop the stand-in tracker as our scripts do (its own signal,
# SIGINT, by container id, then a poll until it has exited) and start it again.
signal_start() {
  # shellcheck disable=SC2016 # expands in the target
  on_target "$1" 'ids='"$TRACKER_IDS_ON_TARGET"'; start=$(date +%s%3N); docker kill --signal SIGINT $ids >/dev/null && while [ "$(docker inspect -f "{{.State.Running}}" $ids)" = true ]; do sleep 0.1; done && docker start $ids >/dev/null && until [ "$(docker inspect -f "{{.State.Running}}" $ids)" = true ]; do sleep 0.1; done; echo $(($(date +%s%3N) - start))'
}

# repeat N FUNCTION ARGS...: per output field, the median of N runs.
repeat() {
  local runs="$1" i field
  shift
  local -a lines=() fields=() out=()
  for ((i = 0; i < runs; i++)); do lines+=("$("$@")"); done
  read -ra fields <<<"${lines[0]}"
  for ((field = 1; field <= ${#fields[@]}; field++)); do
    # shellcheck disable=SC2046 # one number per run
    out+=("$(median $(printf '%s\n' "${lines[@]}" | cut -d' ' -f"$field"))")
  done
  echo "${out[*]}"
}

# cli ARGS...: the tool as an operator runs it; output to stderr, summary kept in $WORK/cli.out.
cli() {
  (cd "$REPO_ROOT" && NO_COLOR=1 npx tsx src/cli/bin.ts "$@") >"$WORK/cli.out" 2>&1
  local code=$?
  cat "$WORK/cli.out" >&2
  return "$code"
}

# Sum of ok+changed+skipped+failed over the summary lines of the last cli run.
tasks_run() {
  grep -E '^  [a-z0-9-]+: (ok|FAILED) ' "$WORK/cli.out" \
    | sed -E 's/.* ok=([0-9]+) changed=([0-9]+) failed=([0-9]+) unreachable=[0-9]+ skipped=([0-9]+).*/\1 \2 \3 \4/' \
    | awk '{ ok += $1; skipped += $4; failed += $3 } END { print ok + skipped + failed }'
}

# From a stats file: "tasks changed failed" summed over hosts.
stats_of() {
  jq -r '[.hosts[]] | "\(map(.ok + .skipped + .failures) | add) \(map(.changed) | add) \(map(.failures + .unreachable) | add)"' "$1"
}

changed_total() {
  sed -nE 's/^  hosts: [0-9]+, changed: ([0-9]+),.*/\1/p' "$WORK/cli.out"
}

machine() {
  printf 'Machine: %s CPU(s) (%s), %s GiB RAM, %s; Docker %s, Ansible %s.\n' \
    "$(nproc)" "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)" \
    "$(awk '/MemTotal/ { printf "%d", $2 / 1048576 }' /proc/meminfo)" \
    "$(sed -n 's/^PRETTY_NAME="\(.*\)"$/\1/p' /etc/os-release)" \
    "$(docker version --format '{{.Server.Version}}' 2>/dev/null)" \
    "$(ansible --version | head -n 1 | sed -E 's/.*core ([0-9.]+).*/\1/')"
}
