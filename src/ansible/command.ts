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
}

export function playbookCommand(options: PlaybookOptions): PlaybookCommand {
  const args = [PLAYBOOKS[options.phase]];
  if (options.check) args.push('--check', '--diff');
  if (options.extraVars && Object.keys(options.extraVars).length > 0) args.push('--extra-vars', JSON.stringify(options.extraVars));
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
