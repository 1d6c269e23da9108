#!/usr/bin/env bash
# shellcheck disable=SC2016 # backticks in the printed markdown
# provision.sh: provisioning wall time and task count on sandbox targets.
#
#  1. Ansible tuning, before/after, one fresh target each: "stock" is the same generated
#     project with Ansible's defaults put back (no pipelining, no SSH multiplexing, facts
#     gathered in every play); "tuned" is the project as the tool writes it. Both run
#     `ansible-playbook site.yml` in the rendered project, fresh and then again
#     (idempotent, changed=0).
#  2. Many hosts: `npm run provision` with one --env against one fresh target, then with
#     four --env against four fresh targets in one run (forks run them in parallel).
#
# Usage: bench/provision.sh [tuning|fleet]...   (default: both)
# The backup image is already on the Docker host the sandbox targets share, so "fresh"
# excludes building it (a real fresh host builds it once: see docs/performance.md).
# Needs: scripts/setup.sh done, root. Prints markdown.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# playbook_run DIR STATS [env assignments...]: timed ansible-playbook site.yml in DIR.
playbook_run() {
  local dir="$1" stats="$2"
  shift 2
  (cd "$dir" && timed env TRACKER_BACKUP_STATS_FILE="$stats" "$@" ansible-playbook site.yml)
}

tuning_variant() {
  local variant="$1" env dir fresh again
  local -a overrides=()
  say "tuning: $variant: fresh sandbox target"
  env="$(sandbox_up "bench-tune-$variant")"
  dir="$WORK/tune-$variant"
  cli render --env "$env" --out "$dir" || die "render failed"
  if [[ "$variant" == stock ]]; then
    sed -i 's/^  gather_facts: false$/  gather_facts: true/' "$dir"/*.yml
    overrides=(ANSIBLE_PIPELINING=False "ANSIBLE_SSH_ARGS=-o ControlMaster=no -o ControlPath=none")
  fi
  fresh="$(playbook_run "$dir" "$WORK/fresh-$variant.json" "${overrides[@]}")" || die "$variant: fresh run failed"
  again="$(playbook_run "$dir" "$WORK/again-$variant.json" "${overrides[@]}")" || die "$variant: re-run failed"
  read -r fresh_tasks fresh_changed fresh_failed <<<"$(stats_of "$WORK/fresh-$variant.json")"
  read -r again_tasks again_changed again_failed <<<"$(stats_of "$WORK/again-$variant.json")"
  ((fresh_failed == 0 && again_failed == 0)) || die "$variant: a run failed"
  sandbox_down "bench-tune-$variant"
  echo "$fresh $fresh_tasks $fresh_changed $again $again_tasks $again_changed"
}

tuning() {
  local stock tuned
  stock="$(tuning_variant stock)"
  tuned="$(tuning_variant tuned)"
  read -r s_fresh s_ftasks s_fchanged s_again s_atasks s_achanged <<<"$stock"
  read -r t_fresh t_ftasks t_fchanged t_again t_atasks t_achanged <<<"$tuned"
  printf '\n### Ansible tuning: one target, `ansible-playbook site.yml`\n\n'
  printf '| run | stock: time (s) | stock: tasks (changed) | tuned: time (s) | tuned: tasks (changed) | tuned ÷ stock |\n|---|---|---|---|---|---|\n'
  printf '| fresh target | %s | %s (%s) | %s | %s (%s) | %s |\n' "$(secs "$s_fresh")" "$s_ftasks" "$s_fchanged" "$(secs "$t_fresh")" "$t_ftasks" "$t_fchanged" "$(ratio "$t_fresh" "$s_fresh")"
  printf '| idempotent re-run | %s | %s (%s) | %s | %s (%s) | %s |\n' "$(secs "$s_again")" "$s_atasks" "$s_achanged" "$(secs "$t_again")" "$t_atasks" "$t_achanged" "$(ratio "$t_again" "$s_again")"
}

# provision_envs LABEL ENV...: timed `npm run provision` with one --env per file.
# Prints "ms tasks changed cpu_ms": cpu_ms is the machine's busy CPU time meanwhile (the
# targets are containers on this machine, so it covers controller and hosts alike).
provision_envs() {
  local label="$1" env ms cpu
  shift
  local -a args=()
  for env in "$@"; do args+=(--env "$env"); done
  cpu="$(cpu_busy_ms)"
  ms="$(timed cli provision "${args[@]}" --out "$WORK/fleet-$label")" || die "provision ($label) failed"
  echo "$ms $(tasks_run) $(changed_total) $(($(cpu_busy_ms) - cpu))"
}

fleet() {
  local i one four one_again four_again idle
  local -a envs=()
  say "fleet: five fresh sandbox targets"
  # Five stand-ins writing every 0.2 s would keep this machine's cores busy on their own;
  # one write every 5 s leaves the cores to what is measured.
  for i in 1 2 3 4 5; do envs+=("$(TRACKER_BACKUP_SANDBOX_STANDIN_INTERVAL=5 sandbox_up "bench-fleet-$i")"); done
  idle="$(cpu_busy_ms)"
  sleep 10
  idle="$(($(cpu_busy_ms) - idle))"
  one="$(provision_envs one "${envs[0]}")"
  four="$(provision_envs four "${envs[@]:1}")"
  one_again="$(provision_envs one "${envs[0]}")"
  four_again="$(provision_envs four "${envs[@]:1}")"
  for i in 1 2 3 4 5; do sandbox_down "bench-fleet-$i"; done
  printf '\n### Many hosts: `npm run provision` with 1 and with 4 `--env` (fresh targets)\n\n'
  printf 'The five sandbox targets idle kept %s of %s CPU cores busy (10 s sample).\n\n' "$(ratio "$idle" 10000)" "$(nproc)"
  printf '| run | 1 host: time (s) | tasks (changed) | CPU cores busy | 4 hosts: time (s) | tasks (changed) | CPU cores busy | 4 hosts ÷ 1 host (target ≤ 1.5) |\n|---|---|---|---|---|---|---|---|\n'
  local row label
  for row in "fresh targets|$one|$four" "idempotent re-run|$one_again|$four_again"; do
    IFS='|' read -r label one_line four_line <<<"$row"
    read -r o_ms o_tasks o_changed o_cpu <<<"$one_line"
    read -r f_ms f_tasks f_changed f_cpu <<<"$four_line"
    printf '| %s | %s | %s (%s) | %s of %s | %s | %s (%s) | %s of %s | %s |\n' "$label" "$(secs "$o_ms")" "$o_tasks" "$o_changed" "$(ratio "$o_cpu" "$o_ms")" "$(nproc)" \
      "$(secs "$f_ms")" "$f_tasks" "$f_changed" "$(ratio "$f_cpu" "$f_ms")" "$(nproc)" "$(ratio "$f_ms" "$o_ms")"
  done
}

main() {
  local part
  local -a parts=("$@")
  ((${#parts[@]} > 0)) || parts=(tuning fleet)
  printf '## Provisioning (bench/provision.sh %s)\n\n%s\n' "${parts[*]}" "$(machine)"
  for part in "${parts[@]}"; do
    case "$part" in
      tuning) tuning ;;
      fleet) fleet ;;
      *) die "unknown part: $part (expected tuning or fleet)" ;;
    esac
  done
}

main "$@"
