// What a command gets from the outside world, passed in rather than read from globals,
// so tests run commands in-process with their own streams, directories and clock.
export interface Context {
  /** Where relative --env and --out paths are resolved (the caller's directory). */
  cwd: string;
  /** The package root: the role, playbooks and templates a project is built from. */
  root: string;
  /** Where envs/<name>.json and build/ live: the caller's directory, or --project-dir. */
  projectDir: string;
  env: NodeJS.ProcessEnv;
  now: () => Date;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Bad flags or arguments: reported in one line, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
