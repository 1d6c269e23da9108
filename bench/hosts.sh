#!/usr/bin/env bash
# shellcheck disable=SC2016 # backticks in the printed markdown
# hosts.sh: many hosts (issue 14 §3). On this machine the sandbox targets are containers on
# the controller's own cores, so the wall time of N hosts says little about N real hosts.
# This measures the controller's CPU apart from the targets' and projects from it.
#
#  scale     `ansible-playbook site.yml` in a project rendered for 1 host, then for 4 (more
#            with BENCH_HOSTS="1 4 8"), each against fresh targets, then again (idempotent).
#            The controller (ansible-playbook, its workers and the SSH processes they start,
#            ControlPersist masters included) runs in a cpuacct cgroup of its own, pinned to
#            CPU 0; the targets (and their compose stacks) are pinned to the other CPUs
#            (`scripts/sandbox.sh up --cpus`) and read from Docker's cpuacct cgroups. The
#            main ansible-playbook process's own CPU (one thread of control: it cannot use
#            a second core) is read from /proc before it is reaped. From these: the
#            projected wall time for 4, 10 and 100 hosts with the generated `forks`.
#  settings  idempotent re-runs of the same 4 hosts with one Ansible setting changed at a
#            time against the generated project: controller CPU per host for each.
#
# Usage: bench/hosts.sh [scale|settings]...   (default: both; settings needs scale's hosts)
# Needs: scripts/setup.sh done, root, cgroup v1 cpuacct (Docker's cgroupfs driver), at
# least 2 CPUs. Prints markdown on stdout, progress on stderr.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

read -ra COUNTS <<<"${BENCH_HOSTS:-1 4}"
readonly COUNTS
readonly CPUACCT=/sys/fs/cgroup/cpuacct
readonly CONTROLLER_CPU=0
TARGET_CPUS="$( (($(nproc) > 2)) && echo "1-$(($(nproc) - 1))" || echo 1)"
readonly TARGET_CPUS
CGROUP="$CPUACCT/tracker-backup-bench-$$"
readonly CGROUP
# Results of the scale part, "label count" -> "wall_ms controller_ms main_ms targets_ms rest_ms tasks changed".
declare -A RESULT=()
# The hosts of the largest count, provisioned by scale: settings re-runs them.
SETTINGS_PROJECT=""

# Kills what is left in the controller's cgroup: ControlPersist masters of the last run
# (each run starts without one, as a separate invocation a minute later would).
controller_reset() {
  local pid
  [[ -d "$CGROUP" ]] || return 0
  while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$CGROUP/cgroup.procs"
  # A cgroup file has no size: read it.
  while [[ -n "$(<"$CGROUP/cgroup.procs")" ]]; do sleep 0.1; done
}

hosts_cleanup() {
  controller_reset
  # The sandboxes go even when the cgroup cannot.
  [[ ! -d "$CGROUP" ]] || rmdir "$CGROUP" || say "could not remove $CGROUP"
  cleanup
}
trap hosts_cleanup EXIT
# Interrupted, the sandboxes and the cgroup still go.
trap 'exit 130' INT TERM

# The controller's main process: its own CPU time (all its threads), read from /proc while
# it is a zombie, so none of its children's time is in it. Writes "ms exit-status" to $1.
readonly MAIN_CPU_PY='
import os, subprocess, sys
child = subprocess.Popen(sys.argv[2:])
os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
with open(f"/proc/{child.pid}/stat") as stat:
    fields = stat.read().rsplit(")", 1)[1].split()
ms = (int(fields[11]) + int(fields[12])) * 1000 // os.sysconf("SC_CLK_TCK")
status = child.wait()
with open(sys.argv[1], "w") as out:
    out.write(f"{ms} {status}\n")
'

# CPU time (ms) of the bench's target containers and their compose stacks so far.
targets_cpu_ms() {
  local id total=0
  while read -r id; do
    [[ -r "$CPUACCT/docker/$id/cpuacct.usage" ]] || continue
    total=$((total + $(<"$CPUACCT/docker/$id/cpuacct.usage")))
  done < <(docker ps -q --no-trunc --filter name=tbsandbox-bench-hosts-)
  echo $((total / 1000000))
}

cgroup_ms() {
  echo $(($(<"$CGROUP/cpuacct.usage") / 1000000))
}

# playbook DIR: `ansible-playbook site.yml` in DIR as the controller. Prints "wall_ms
# controller_ms main_ms targets_ms rest_ms tasks changed"; rest is the machine's busy
# time that is neither (the Docker daemon, the backup containers, other work here).
playbook() {
  local dir="$1" wall ctl targets busy main status tasks changed failed
  controller_reset
  rm -f "$WORK/stats.json"
  ctl="$(cgroup_ms)" targets="$(targets_cpu_ms)" busy="$(cpu_busy_ms)"
  wall="$(cd "$dir" && timed bash -c 'echo "$BASHPID" >"$1/cgroup.procs" && shift && exec "$@"' _ "$CGROUP" \
    env TRACKER_BACKUP_STATS_FILE="$WORK/stats.json" ANSIBLE_NOCOLOR=1 taskset -c "$CONTROLLER_CPU" \
    python3 -c "$MAIN_CPU_PY" "$WORK/main-cpu" ansible-playbook site.yml)" || die "ansible-playbook failed in $dir"
  ctl=$(($(cgroup_ms) - ctl)) targets=$(($(targets_cpu_ms) - targets)) busy=$(($(cpu_busy_ms) - busy))
  read -r main status <"$WORK/main-cpu"
  ((status == 0)) || die "ansible-playbook exited $status in $dir"
  read -r tasks changed failed <<<"$(stats_of "$WORK/stats.json")"
  ((failed == 0)) || die "a host failed in $dir"
  echo "$wall $ctl $main $targets $((busy - ctl - targets)) $tasks $changed"
}

# targets_up FIRST COUNT: fresh sandbox targets bench-hosts-FIRST... pinned away from the
# controller; prints their env files, one a line.
targets_up() {
  local i
  for ((i = $1; i < $1 + $2; i++)); do
    say "bringing up sandbox target bench-hosts-$i"
    # One write every 5 s: a dozen stand-ins at 0.2 s would keep a core busy on their own.
    TRACKER_BACKUP_SANDBOX_STANDIN_INTERVAL=5 sandbox_up "bench-hosts-$i" --cpus "$TARGET_CPUS"
  done
}

# forks as the generated ansible.cfg sets it.
forks_of() {
  sed -n 's/^forks = \([0-9]*\)$/\1/p' "$1/ansible.cfg"
}

scale() {
  local count env dir line first=1
  local -a args
  local -A project=()
  for count in "${COUNTS[@]}"; do
    dir="$WORK/hosts-$count"
    args=()
    while read -r env; do args+=(--env "$env"); done < <(targets_up "$first" "$count")
    first=$((first + count))
    cli render "${args[@]}" --out "$dir" || die "render failed"
    project[$count]="$dir"
  done
  for line in fresh again; do
    for count in "${COUNTS[@]}"; do
      say "scale: $count host(s), $line"
      RESULT[$line $count]="$(playbook "${project[$count]}")"
    done
  done
  SETTINGS_PROJECT="${project[${COUNTS[-1]}]}"
  scale_report "$(forks_of "$SETTINGS_PROJECT")"
}

# per_host LABEL FIELD: the per-host slope of FIELD (1-based in RESULT) between the
# smallest and the largest count, and the fixed part; prints "slope fixed" in ms.
per_host() {
  local small="${COUNTS[0]}" large="${COUNTS[-1]}" a b
  a="$(cut -d' ' -f"$2" <<<"${RESULT[$1 $small]}")"
  b="$(cut -d' ' -f"$2" <<<"${RESULT[$1 $large]}")"
  awk -v a="$a" -v b="$b" -v s="$small" -v l="$large" 'BEGIN { slope = (b - a) / (l - s); printf "%d %d\n", slope, a - slope * s }'
}

scale_report() {
  local forks="$1" line count wall ctl main targets rest tasks changed one
  local cores
  cores="$(nproc)"
  printf '\n### Controller and target CPU, 1 to %s hosts (`ansible-playbook site.yml`)\n\n' "${COUNTS[-1]}"
  printf 'Controller on CPU %s, targets and their stacks on CPUs %s; load before the run: %s.\n\n' "$CONTROLLER_CPU" "$TARGET_CPUS" "$LOAD_BEFORE"
  printf '| run | hosts | tasks (changed) | wall (s) | ÷ 1 host | controller CPU (s) | of it main process (s) | controller CPU per host (s) | targets CPU (s) | rest of machine (s) |\n|---|---|---|---|---|---|---|---|---|---|\n'
  for line in fresh again; do
    one="${RESULT[$line ${COUNTS[0]}]%% *}"
    for count in "${COUNTS[@]}"; do
      read -r wall ctl main targets rest tasks changed <<<"${RESULT[$line $count]}"
      printf '| %s | %s | %s (%s) | %s | %s | %s | %s | %s | %s | %s |\n' "$([[ $line == fresh ]] && echo 'fresh targets' || echo 'idempotent re-run')" \
        "$count" "$tasks" "$changed" "$(secs "$wall")" "$(ratio "$wall" "$one")" "$(secs "$ctl")" "$(secs "$main")" \
        "$(secs $((ctl / count)))" "$(secs "$targets")" "$(secs "$rest")"
    done
  done
  printf '\n"rest of machine" is the busy CPU time of the whole machine during the run minus the controller and the targets: the Docker daemon, the initial backup'"'"'s container (fresh runs), and whatever else ran here.\n'
  printf '\n### Projection: wall time of N real hosts, `forks = %s`, a controller with %s cores\n\n' "$forks" "$cores"
  printf 'Model, per run: every host runs the same chain of tasks; with the linear strategy a task ends when it has ended on every host, and at most `forks` hosts run at once, so the hosts take **latency = L × ceil(N / forks)**, L being one host'"'"'s wall time (measured above with the controller and the target each on a core of its own). The controller must meanwhile spend **CPU = fixed + per host × N** (the slope between %s and %s hosts above), spread over its cores: **CPU ÷ %s**, but no less than the main process'"'"'s own share (fixed + per host × N on one core: it is one thread of control). The wall time is at least the largest of the three (they overlap) and at most latency + controller CPU ÷ cores; the binding limit is the largest.\n\n' \
    "${COUNTS[0]}" "${COUNTS[-1]}" "$cores"
  printf '| run | hosts | latency (s) | controller CPU ÷ %s cores (s) | main process (s) | projected wall (s) | ÷ 1 host measured | binding limit |\n|---|---|---|---|---|---|---|---|\n' "$cores"
  for line in fresh again; do
    local c_slope c_fixed m_slope m_fixed n
    read -r c_slope c_fixed <<<"$(per_host "$line" 2)"
    read -r m_slope m_fixed <<<"$(per_host "$line" 3)"
    one="${RESULT[$line ${COUNTS[0]}]%% *}"
    for n in 4 10 100; do
      awk -v l="$one" -v n="$n" -v f="$forks" -v k="$cores" -v cs="$c_slope" -v cf="$c_fixed" -v ms="$m_slope" -v mf="$m_fixed" \
        -v run="$([[ $line == fresh ]] && echo 'fresh targets' || echo 'idempotent re-run')" 'BEGIN {
          lat = l * int((n + f - 1) / f); cpu = (cf + cs * n) / k; main = mf + ms * n
          wall = lat; limit = "latency (per-host task chain × batches of forks)"
          if (cpu > wall) { wall = cpu; limit = "controller CPU" }
          if (main > wall) { wall = main; limit = "main process (one core)" }
          printf "| %s | %d | %.2f | %.2f | %.2f | %.2f to %.2f | %.2f to %.2f | %s |\n", run, n, lat / 1000, cpu / 1000, main / 1000,
            wall / 1000, (lat + cpu) / 1000, wall / l, (lat + cpu) / l, limit }'
    done
  done
  printf '\nPer host the controller spends %s s of CPU on a fresh host and %s s on an idempotent re-run (slope between %s and %s hosts); the main process %s s and %s s of it.\n' \
    "$(secs "$(per_host fresh 2 | cut -d' ' -f1)")" "$(secs "$(per_host again 2 | cut -d' ' -f1)")" "${COUNTS[0]}" "${COUNTS[-1]}" \
    "$(secs "$(per_host fresh 3 | cut -d' ' -f1)")" "$(secs "$(per_host again 3 | cut -d' ' -f1)")"
}

# variant NAME DIR: changes the project copy in DIR to the setting NAME.
variant() {
  local cfg="$2/ansible.cfg"
  case "$1" in
    generated) ;;
    "pipelining off") sed -i 's/^pipelining = True$/pipelining = False/' "$cfg" ;;
    "no SSH multiplexing") sed -i 's/^ssh_args = .*/ssh_args = -o ControlMaster=no -o ControlPath=none/' "$cfg" ;;
    "facts: min subset") sed -i 's/^  gather_facts: false$/  gather_facts: true\n  gather_subset: [min]/' "$2"/*.yml ;;
    "forks = 2") sed -i 's/^forks = .*/forks = 2/' "$cfg" ;;
    "strategy free") sed -i 's/^\[defaults\]$/&\nstrategy = free/' "$cfg" ;;
    "internal_poll_interval = 0.001 (Ansible's default)") sed -i 's/^internal_poll_interval = .*/internal_poll_interval = 0.001/' "$cfg" ;;
    "interpreter pinned (/usr/bin/python3, no discovery)") sed -i 's|^interpreter_python = .*|interpreter_python = /usr/bin/python3|' "$cfg" ;;
    *) die "unknown setting: $1" ;;
  esac
}

# What this project changed first (docs/performance.md has the older tuning's before/after).
readonly SETTINGS=(
  generated "internal_poll_interval = 0.001 (Ansible's default)" "interpreter pinned (/usr/bin/python3, no discovery)"
  "strategy free" "pipelining off" "no SSH multiplexing" "facts: min subset" "forks = 2" generated
)

settings() {
  local name dir base wall ctl main targets rest tasks changed i=0 count="${COUNTS[-1]}"
  [[ -n "$SETTINGS_PROJECT" ]] || die "settings needs the hosts of scale: bench/hosts.sh scale settings"
  printf '\n### Controller CPU per host by setting: idempotent re-run of the %s hosts\n\n' "$count"
  printf 'One run each, in this order (the generated project first and last, for the noise); load before: %s.\n\n' "$(uptime_load)"
  printf '| setting | wall (s) | controller CPU per host (s) | ÷ generated (first run) | main process per host (s) | tasks |\n|---|---|---|---|---|---|\n'
  for name in "${SETTINGS[@]}"; do
    i=$((i + 1))
    dir="$WORK/setting-$i"
    cp -a "$SETTINGS_PROJECT" "$dir"
    variant "$name" "$dir"
    say "settings: $name"
    read -r wall ctl main targets rest tasks changed <<<"$(playbook "$dir")"
    ((changed == 0)) || die "$name: the re-run changed $changed task(s)"
    base="${base:-$ctl}"
    printf '| %s | %s | %s | %s | %s | %s |\n' "$name" "$(secs "$wall")" "$(secs $((ctl / count)))" "$(ratio "$ctl" "$base")" "$(secs $((main / count)))" "$tasks"
  done
}

uptime_load() {
  cut -d' ' -f1-3 /proc/loadavg
}

main() {
  local part started
  local -a parts=("$@")
  ((${#parts[@]} > 0)) || parts=(scale settings)
  ((${#COUNTS[@]} >= 2)) || die "BENCH_HOSTS needs two host counts at least (the smallest and the largest give the slope)"
  (($(nproc) >= 2)) || die "needs at least 2 CPUs (one for the controller, the rest for the targets)"
  [[ -f "$CPUACCT/cpuacct.usage" && -d "$CPUACCT/docker" ]] || die "needs cgroup v1 cpuacct with Docker's cgroupfs driver ($CPUACCT/docker)"
  mkdir "$CGROUP"
  started="$(now_ms)"
  LOAD_BEFORE="$(uptime_load)"
  printf '## Many hosts (bench/hosts.sh %s)\n\n%s\n' "${parts[*]}" "$(machine)"
  for part in "${parts[@]}"; do
    case "$part" in
      scale) scale ;;
      settings) settings ;;
      *) die "unknown part: $part (expected scale or settings)" ;;
    esac
  done
  printf '\nbench/hosts.sh took %s s; load average at the end: %s.\n' "$(secs $(($(now_ms) - started)))" "$(uptime_load)"
}

main "$@"
