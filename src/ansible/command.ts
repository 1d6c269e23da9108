// The ansible-playbook invocation as a value: built here, run in run.ts, printed on
// request, so what the CLI runs is exactly what the README and --help show.
export type Phase = 'release' | 'run' | 'all' | 'backup' | 'backups' | 'restore';

export const PLAYBOOKS: Record<Phase, string> = {
  release: 'release.yml',
  run: 'run.yml',
  all: 'site.yml',
  backup: 'backup.yml',
  backups: 'backups.yml',
  restore: 'restore.yml',
};

export interface PlaybookCommand {
  program: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
}

export interface PlaybookOptions {
  projectDir: string;
  phase: Phase;
  check: boolean;
  statsFile: string;
  color: boolean;
  /** Passed as one JSON -e argument; never secrets (those live in the 0600 vars file). */
  extraVars?: Record<string, unknown>;
  /** What the user put after a literal --, already checked by refusedAnsibleArg. */
  ansibleArgs?: readonly string[];
}

export function playbookCommand(options: PlaybookOptions): PlaybookCommand {
  const args = [PLAYBOOKS[options.phase]];
  if (options.check) args.push('--check', '--diff');
  if (options.extraVars && Object.keys(options.extraVars).length > 0) args.push('--extra-vars', JSON.stringify(options.extraVars));
  args.push(...(options.ansibleArgs ?? []));
  return {
    program: 'ansible-playbook',
    args,
    cwd: options.projectDir,
    env: {
      // Read by the generated ansible.cfg's stats callback.
      TRACKER_BACKUP_STATS_FILE: options.statsFile,
      ANSIBLE_FORCE_COLOR: options.color ? '1' : '0',
      ANSIBLE_NOCOLOR: options.color ? '0' : '1',
      // The project's ansible.cfg must win over one in the user's home or environment.
      ANSIBLE_CONFIG: `${options.projectDir}/ansible.cfg`,
    },
  };
}

function quote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The command as a shell line, for the log and --help; the env's stats file is left out. */
export function formatCommand(command: PlaybookCommand): string {
  return `cd ${quote(command.cwd)} && ${[command.program, ...command.args].map(quote).join(' ')}`;
}

const RUNS_NOTHING = 'ansible-playbook then runs no play and the summary would call every host failed; run it in the rendered project instead (npm run render)';

/** ansible-playbook's flags the tool sets itself, or that would defeat its summary, with why. */
const REFUSED: Record<string, string> = {
  '--inventory': 'the tool writes its own inventory from the environment files; pick hosts with --limit',
  '--inventory-file': 'the tool writes its own inventory from the environment files; pick hosts with --limit',
  '--check': "use the tool's own --check (before the --): it adds --diff and the summary then says nothing was changed",
  '--extra-vars': "the environment file is the configuration; extra vars would override it (and restore's --at, --only, --yes)",
  '--syntax-check': RUNS_NOTHING,
  '--list-hosts': RUNS_NOTHING,
  '--list-tasks': RUNS_NOTHING,
  '--list-tags': RUNS_NOTHING,
  '--help': RUNS_NOTHING,
  '--version': RUNS_NOTHING,
};

const SHORT: Record<string, string> = { i: '--inventory', C: '--check', e: '--extra-vars', h: '--help' };

/** ansible-playbook's short options that take a value: the rest of a cluster is that value. */
const SHORT_WITH_VALUE = new Set(['i', 'e', 'l', 't', 'f', 'u', 'c', 'T', 'M']);

/**
 * Why one word after -- may not go to ansible-playbook, or undefined. Knows short
 * clusters (-vK, -Ci) and, as ansible's argparse does, unambiguous long prefixes (--inv).
 */
export function refusedAnsibleArg(arg: string): string | undefined {
  if (arg.startsWith('--')) {
    const name = arg.split('=', 1)[0] ?? arg;
    const exact = REFUSED[name];
    if (exact) return exact;
    if (name.length < 5) return undefined;
    const prefixed = Object.keys(REFUSED).find((long) => long.startsWith(name));
    return prefixed ? REFUSED[prefixed] : undefined;
  }
  if (!/^-[A-Za-z]/.test(arg)) return undefined;
  for (const letter of arg.slice(1)) {
    const long = SHORT[letter];
    if (long) return REFUSED[long];
    if (SHORT_WITH_VALUE.has(letter)) return undefined;
  }
  return undefined;
}
