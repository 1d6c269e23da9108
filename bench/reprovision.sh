#!/usr/bin/env bash
# shellcheck disable=SC2016 # backticks in the printed markdown
# reprovision.sh: provisioning time against the Torrust Tracker Deployer's own backup
# playbooks (issue 14 requirement 2), from one run, each side on its own fresh sandbox
# target of the same kind:
#
#  - deployer: its three backup playbooks (create-backup-storage, deploy-backup-config,
#    install-backup-crontab), each run with its own `ansible-playbook -v` as the deployer
#    runs them, with its ansible.cfg and inventory. They are rendered at run time from the
#    templates of https://github.com/torrust/torrust-tracker-deployer into this run's
#    temporary directory (never into this repository): DEPLOYER_SRC is a clone of it (a
#    checkout or a bare git directory). The Tera templates are rendered with Jinja2 (the
#    constructs they use mean the same in both), for the sandbox's address, port, user,
#    key and deploy directory (theirs is fixed at /opt/torrust).
#  - before: `ansible-playbook site.yml` in the project rendered by the tree at BEFORE_REF
#    (default main) of this repository, exported with git archive.
#  - after: the same with this tree, and `npm run provision` (the CLI through tsx, as
#    operators run it).
#  - mitogen (only when asked for): the after project on the ansible-core 2.19 controller
#    (scripts/controller.sh's image plus Debian 13's ansible-mitogen), with the default
#    linear strategy and with mitogen_linear.
#
# Each side runs once on its fresh target, then RUNS times again (idempotent; the median
# is reported). The backup image is already on the Docker host the targets share, so
# "fresh" excludes building it.
#
# Usage: DEPLOYER_SRC=DIR bench/reprovision.sh [RUNS] [mitogen]   (RUNS default 3)
# Needs: scripts/setup.sh done, root, python3 with jinja2 (ansible's own), git.
# Prints markdown.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly DEPLOYER_PLAYBOOKS=(create-backup-storage deploy-backup-config install-backup-crontab)

# env_field ENV_FILE PYTHON_EXPR: a field of a sandbox environment file (the JSON is `e`).
env_field() {
  python3 -c 'import json, sys; e = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# deployer_templates DEST: the deployer's templates/ansible and templates/backup in DEST.
deployer_templates() {
  local dest="$1"
  [[ -n "${DEPLOYER_SRC:-}" ]] || die "set DEPLOYER_SRC to a clone of https://github.com/torrust/torrust-tracker-deployer"
  mkdir -p "$dest"
  if [[ -d "$DEPLOYER_SRC/templates/ansible" ]]; then
    cp -R "$DEPLOYER_SRC/templates/ansible" "$DEPLOYER_SRC/templates/backup" "$dest/"
  else
    git --git-dir="$DEPLOYER_SRC" archive HEAD templates/ansible templates/backup | tar -x -C "$dest" --strip-components=1
  fi
  local playbook
  for playbook in "${DEPLOYER_PLAYBOOKS[@]}"; do
    [[ -f "$dest/ansible/$playbook.yml" ]] || die "DEPLOYER_SRC has no templates/ansible/$playbook.yml"
  done
}

# deployer_render TEMPLATES ENV_FILE DEST: the deployer's build directory for the sandbox:
# DEST/ansible (ansible.cfg, inventory, variables, the three playbooks) and
# DEST/backup/etc (what deploy-backup-config and install-backup-crontab copy).
deployer_render() {
  local templates="$1" env="$2" dest="$3"
  mkdir -p "$dest/ansible" "$dest/backup/etc"
  python3 - "$templates" "$dest" \
    "$(env_field "$env" 'e["instance"]["host"]')" \
    "$(env_field "$env" 'e["ssh_credentials"]["port"]')" \
    "$(env_field "$env" 'e["ssh_credentials"]["username"]')" \
    "$(env_field "$env" 'e["ssh_credentials"]["private_key_path"]')" \
    "$(deploy_dir_of "$env")" <<'PY'
import pathlib, shutil, sys
import jinja2

templates, dest, host, port, user, key, deploy_dir = sys.argv[1:]
src, out = pathlib.Path(templates), pathlib.Path(dest)
context = {
    "generated_at": "bench", "ansible_host": host, "ansible_port": port, "ansible_user": user,
    "ansible_ssh_private_key_file": key, "ssh_port": port,
    "schedule": "0 3 * * *", "retention_days": 7, "type": "sqlite3",
    "path": "/data/storage/tracker/lib/database/sqlite3.db",
}
env = jinja2.Environment(keep_trailing_newline=True, undefined=jinja2.Undefined)

def place(text):
    # Their deploy directory is fixed; the sandbox's deployment lives elsewhere.
    return text.replace("/opt/torrust", deploy_dir)

files = {
    "ansible/ansible.cfg": "ansible/ansible.cfg",
    "ansible/inventory.yml.tera": "ansible/inventory.yml",
    "ansible/variables.yml.tera": "ansible/variables.yml",
    "ansible/create-backup-storage.yml": "ansible/create-backup-storage.yml",
    "ansible/deploy-backup-config.yml": "ansible/deploy-backup-config.yml",
    "ansible/install-backup-crontab.yml": "ansible/install-backup-crontab.yml",
    "backup/backup.conf.tera": "backup/etc/backup.conf",
    "backup/backup-paths.txt": "backup/etc/backup-paths.txt",
    "backup/maintenance-backup.cron.tera": "backup/etc/maintenance-backup.cron",
    "backup/maintenance-backup.sh": "backup/etc/maintenance-backup.sh",
}
for name, target in files.items():
    text = (src / name).read_text()
    # Playbooks are Ansible's own templates: copied as they are.
    if name.endswith(".tera"):
        text = env.from_string(text).render(context)
    (out / target).write_text(place(text))
shutil.copymode(src / "backup/maintenance-backup.sh", out / "backup/etc/maintenance-backup.sh")
PY
}

# recap_tasks FILE...: "tasks changed failed" summed over the PLAY RECAP lines in FILEs.
recap_tasks() {
  sed -nE 's/.* ok=([0-9]+) +changed=([0-9]+) +unreachable=([0-9]+) +failed=([0-9]+) +skipped=([0-9]+).*/\1 \2 \3 \4 \5/p' "$@" \
    | awk '{ t += $1 + $4 + $5; c += $2; f += $3 + $4 } END { print t + 0, c + 0, f + 0 }'
}

# deployer_once DIR LABEL: the three playbooks one after the other, as the deployer runs
# them; prints "ms tasks changed".
deployer_once() {
  local dir="$1" label="$2" playbook start tasks changed failed
  start="$(now_ms)"
  for playbook in "${DEPLOYER_PLAYBOOKS[@]}"; do
    (cd "$dir/ansible" && ansible-playbook -v "$playbook.yml") >"$WORK/deployer-$label-$playbook.log" 2>&1 \
      || die "deployer: $playbook failed ($label); see $WORK/deployer-$label-$playbook.log"
  done
  local ms=$(($(now_ms) - start))
  read -r tasks changed failed <<<"$(recap_tasks "$WORK/deployer-$label"-*.log)"
  ((failed == 0)) || die "deployer: a task failed ($label)"
  echo "$ms $tasks $changed"
}

# site_once DIR LABEL [runner...]: `ansible-playbook site.yml` in DIR; prints "ms tasks changed".
site_once() {
  local dir="$1" label="$2" ms tasks changed failed
  shift 2
  ms="$(cd "$dir" && timed env TRACKER_BACKUP_STATS_FILE="$WORK/stats-$label.json" "$@" ansible-playbook site.yml)" \
    || die "site.yml failed ($label)"
  read -r tasks changed failed <<<"$(jq -r '[.hosts[]] | "\(map(.ok + .skipped + .failures) | add) \(map(.changed) | add) \(map(.failures + .unreachable) | add)"' "$WORK/stats-$label.json")"
  ((failed == 0)) || die "a task failed ($label)"
  echo "$ms $tasks $changed"
}

# tree_cli TREE ARGS...: the CLI of a tree of this repository (output to stderr).
tree_cli() {
  local tree="$1"
  shift
  (cd "$tree" && NO_COLOR=1 npx tsx src/cli/bin.ts "$@") >"$WORK/cli.out" 2>&1
  local code=$?
  cat "$WORK/cli.out" >&2
  return "$code"
}

# provision_once TREE ENV: `npm run provision` as an operator runs it; prints "ms tasks changed".
provision_once() {
  local ms
  ms="$(timed tree_cli "$1" provision --env "$2" --out "$WORK/cli-project")" || die "provision failed"
  echo "$ms $(tasks_run) $(changed_total)"
}

RUNS=3
ROWS=()
# Wall times in ms by side (before, after) for the ratios.
declare -A FRESH=() AGAIN=() CLI=()

# row LABEL FRESH AGAIN: one table row ("ms tasks changed" each; AGAIN may be "-").
row() {
  local label="$1" f_ms f_tasks f_changed a_ms a_tasks a_changed
  read -r f_ms f_tasks f_changed <<<"$2"
  if [[ "$3" == - ]]; then
    ROWS+=("$label|$f_ms|$f_tasks ($f_changed)|-|-")
  else
    read -r a_ms a_tasks a_changed <<<"$3"
    ROWS+=("$label|$f_ms|$f_tasks ($f_changed)|$a_ms|$a_tasks ($a_changed)")
  fi
}

deployer_side() {
  local env dir fresh again
  say "deployer: fresh sandbox target"
  env="$(sandbox_up bench-reprov-deployer)"
  deployer_templates "$WORK/deployer-templates"
  dir="$WORK/deployer-build"
  deployer_render "$WORK/deployer-templates" "$env" "$dir"
  fresh="$(deployer_once "$dir" fresh)"
  again="$(repeat "$RUNS" deployer_again "$dir")"
  sandbox_down bench-reprov-deployer
  row "deployer: 3 × \`ansible-playbook -v\`" "$fresh" "$again"
  AGAIN[deployer]="${again%% *}"
  FRESH[deployer]="${fresh%% *}"
}

deployer_again() {
  rm -f "$WORK"/deployer-again-*.log
  deployer_once "$1" again
}

# ours LABEL TREE: fresh target, the tree's project; `site.yml` fresh, then RUNS times again.
ours() {
  local label="$1" tree="$2" env dir fresh again cli_again
  say "$label: fresh sandbox target"
  env="$(sandbox_up "bench-reprov-$label")"
  dir="$WORK/project-$label"
  tree_cli "$tree" render --env "$env" --out "$dir" || die "$label: render failed"
  fresh="$(site_once "$dir" "$label-fresh")"
  again="$(repeat "$RUNS" site_once "$dir" "$label-again")"
  row "$label: \`ansible-playbook site.yml\`" "$fresh" "$again"
  cli_again="$(repeat "$RUNS" provision_once "$tree" "$env")"
  row "$label: \`npm run provision\` (again)" "$cli_again" -
  sandbox_down "bench-reprov-$label"
  AGAIN[$label]="${again%% *}"
  FRESH[$label]="${fresh%% *}"
  CLI[$label]="${cli_again%% *}"
}

# mitogen_run IMAGE DIR KEY STRATEGY: one site.yml in DIR on IMAGE; its ms, timed in the container.
mitogen_run() {
  docker run --rm --network host -v "$2:$2" -v "$3:$3:ro" -w "$2" -e "ANSIBLE_STRATEGY=$4" \
    --entrypoint sh "$1" -c 'start=$(date +%s%3N); ansible-playbook site.yml >&2 && echo $(($(date +%s%3N) - start))'
}

# mitogen: the after project on the 2.19 controller, linear and mitogen_linear, idempotent.
mitogen() {
  local env dir image=tracker-backup-bench/controller-mitogen linear mito
  say "mitogen: controller image with ansible-mitogen"
  "$REPO_ROOT/scripts/controller.sh" run true >/dev/null 2>&1 || die "the 2.19 controller image is missing"
  printf 'FROM tracker-backup-sandbox/controller:2.19\nRUN apt-get update && apt-get install -y --no-install-recommends ansible-mitogen && rm -rf /var/lib/apt/lists/*\n' \
    | docker build -q -t "$image" - >&2 || die "could not build $image (apt needs the network)"
  env="$(sandbox_up bench-reprov-mitogen)"
  dir="$WORK/project-mitogen"
  tree_cli "$REPO_ROOT" render --env "$env" --out "$dir" || die "mitogen: render failed"
  site_once "$dir" mitogen-fresh >/dev/null
  local key
  key="$(env_field "$env" 'e["ssh_credentials"]["private_key_path"]')"
  linear="$(repeat "$RUNS" mitogen_run "$image" "$dir" "$key" linear)"
  mito="$(repeat "$RUNS" mitogen_run "$image" "$dir" "$key" mitogen_linear)"
  sandbox_down bench-reprov-mitogen
  printf '\n### Connection strategy: the after project, idempotent, ansible-core 2.19 controller with ansible-mitogen %s\n\n' \
    "$(docker run --rm --entrypoint dpkg-query "$image" -W -f '${Version}' ansible-mitogen)"
  printf '| strategy | idempotent re-run (s), median of %s | ÷ linear |\n|---|---|---|\n' "$RUNS"
  printf '| linear (default) | %s | 1.00 |\n| mitogen_linear | %s | %s |\n' "$(secs "$linear")" "$(secs "$mito")" "$(ratio "$mito" "$linear")"
}

main() {
  local before_ref="${BEFORE_REF:-main}" arg do_mitogen=false
  for arg in "$@"; do
    case "$arg" in
      mitogen) do_mitogen=true ;;
      [0-9]*) RUNS="$arg" ;;
      *) die "unknown argument: $arg (expected RUNS or mitogen)" ;;
    esac
  done
  local before="$WORK/before"
  mkdir -p "$before"
  git -C "$REPO_ROOT" archive "$before_ref" | tar -x -C "$before"
  ln -s "$REPO_ROOT/node_modules" "$before/node_modules"
  printf '## Re-provisioning against the deployer (bench/reprovision.sh %s)\n\n%s\n' "$*" "$(machine)"
  printf 'Before: %s (%s). Load before the run: %s.\n' "$before_ref" "$(git -C "$REPO_ROOT" rev-parse --short "$before_ref")" "$(uptime | sed 's/.*load/load/')"
  deployer_side
  ours before "$before"
  ours after "$REPO_ROOT"
  printf 'Load after the run: %s.\n\n' "$(uptime | sed 's/.*load/load/')"
  printf '| run | fresh target (s) | tasks (changed) | idempotent re-run (s), median of %s | tasks (changed) |\n|---|---|---|---|---|\n' "$RUNS"
  local line label f_ms f_tc a_ms a_tc
  for line in "${ROWS[@]}"; do
    IFS='|' read -r label f_ms f_tc a_ms a_tc <<<"$line"
    if [[ "$a_ms" == - ]]; then
      printf '| %s | - | - | %s | %s |\n' "$label" "$(secs "$f_ms")" "$f_tc"
    else
      printf '| %s | %s | %s | %s | %s |\n' "$label" "$(secs "$f_ms")" "$f_tc" "$(secs "$a_ms")" "$a_tc"
    fi
  done
  printf '\n| ratio (target ≤ 0.5 for the re-run) | fresh | idempotent re-run |\n|---|---|---|\n'
  printf '| before ÷ deployer | %s | %s |\n' "$(ratio "${FRESH[before]}" "${FRESH[deployer]}")" "$(ratio "${AGAIN[before]}" "${AGAIN[deployer]}")"
  printf '| after ÷ deployer | %s | %s |\n' "$(ratio "${FRESH[after]}" "${FRESH[deployer]}")" "$(ratio "${AGAIN[after]}" "${AGAIN[deployer]}")"
  printf '| after ÷ before | %s | %s |\n' "$(ratio "${FRESH[after]}" "${FRESH[before]}")" "$(ratio "${AGAIN[after]}" "${AGAIN[before]}")"
  printf '| `npm run provision` again: before ÷ deployer, after ÷ deployer | - | %s, %s |\n' "$(ratio "${CLI[before]}" "${AGAIN[deployer]}")" "$(ratio "${CLI[after]}" "${AGAIN[deployer]}")"
  if [[ "$do_mitogen" == true ]]; then mitogen; fi
}

main "$@"
