// Entry point: picks the command, turns expected failures into one clear line and an
// exit code, and is the only place that sets the process's exit code.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { EnvError, printable } from '../env/errors.js';
import { PACKAGE_ROOT } from '../render/sources.js';
import { npmHint } from './args.js';
import { EXIT, UsageError, type Context } from './context.js';

type Command = (argv: string[], ctx: Context) => Promise<number>;

// Loaded on use, so a command pays only for the modules it needs (P5: validate and
// render start in well under 0.5 s; only provision and the operations load execa).
const COMMANDS: Record<string, () => Promise<Command>> = {
  validate: async () => (await import('./commands.js')).validateCommand,
  render: async () => (await import('./commands.js')).renderCommand,
  provision: async () => (await import('./commands.js')).provisionCommand,
  backup: async () => (await import('./operations.js')).backupCommand,
  backups: async () => (await import('./operations.js')).backupsCommand,
  restore: async () => (await import('./operations.js')).restoreCommand,
};

/**
 * Takes `--project-dir DIR` (or `--project-dir=DIR`) out of the arguments, wherever it is:
 * it belongs to every command. Returns the other arguments and the directory where
 * envs/ and build/ live, resolved against the caller's directory (by default that
 * directory itself, which main keeps when the flag is absent).
 */
export function splitProjectDir(argv: readonly string[], cwd: string): { argv: string[]; projectDir?: string } {
  const rest: string[] = [];
  let projectDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    let value: string | undefined;
    if (arg === '--project-dir') {
      value = argv[++i];
      if (value === undefined || value.startsWith('-')) throw new UsageError('--project-dir needs a directory');
    } else if (arg.startsWith('--project-dir=')) value = arg.slice('--project-dir='.length);
    else {
      rest.push(arg);
      continue;
    }
    if (value === '') throw new UsageError('--project-dir needs a directory');
    projectDir = path.resolve(cwd, value);
  }
  return { argv: rest, projectDir };
}

async function packageVersion(root: string): Promise<string> {
  const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { version?: unknown };
  return String(pkg.version);
}

export async function main(argv: string[], ctx: Context): Promise<number> {
  // The words as typed, for the npm hint on a usage error (which may come from the split).
  const [typedName = '', ...typedRest] = argv;
  try {
    const split = splitProjectDir(argv, ctx.cwd);
    ctx = { ...ctx, projectDir: split.projectDir ?? ctx.projectDir };
    const [name, ...rest] = split.argv;
    if (name === '--version' || name === '-V') {
      ctx.stdout(`${await packageVersion(ctx.root)}\n`);
      return EXIT.ok;
    }
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      const { MAIN_HELP } = await import('./commands.js');
      (name === undefined ? ctx.stderr : ctx.stdout)(MAIN_HELP);
      return name === undefined ? EXIT.usage : EXIT.ok;
    }
    const command = COMMANDS[name];
    if (!command) throw new UsageError(`unknown command "${name}" (expected ${Object.keys(COMMANDS).join(', ')})`);
    return await (await command())(rest, ctx);
  } catch (error) {
    if (error instanceof UsageError) {
      const hint = npmHint(typedName, ctx.env, typedRest);
      ctx.stderr(`error: ${printable(error.message)}\n${hint ? `${printable(hint)}\n` : ''}Run with --help for usage.\n`);
      return EXIT.usage;
    }
    if (error instanceof EnvError) {
      // Already printable: formatIssues escaped every part, keeping its own line breaks.
      ctx.stderr(`error: ${error.message}\nNothing was written or changed.\n`);
      return EXIT.failed;
    }
    return unexpected(error, ctx);
  }
}

/**
 * A failure nobody planned for (a file system error, a bug): one line an operator can
 * quote, exit 1. The stack is for whoever debugs it, on request.
 */
function unexpected(error: unknown, ctx: Context): number {
  const message = error instanceof Error ? error.message : String(error);
  ctx.stderr(`error: ${printable(message.split('\n', 1)[0] ?? '')}\n`);
  if (ctx.env.TRACKER_BACKUP_DEBUG === '1') ctx.stderr(`${error instanceof Error && error.stack ? error.stack : String(error)}\n`);
  return EXIT.failed;
}

/**
 * The directory the user ran the command from. `npm run validate` (this package's own
 * aliases) changes into the package directory first; INIT_CWD is where the user was.
 * Anywhere else the process's directory is the caller's: npx does not change it, and
 * another package's npm script runs in that package, which is where its author expects
 * envs/ to be (INIT_CWD would be whichever subdirectory npm was started in).
 */
export function callerDir(env: NodeJS.ProcessEnv, processCwd: string): string {
  return env.npm_package_name === 'tracker-backup' && env.INIT_CWD ? env.INIT_CWD : processCwd;
}

export function processContext(): Context {
  const cwd = callerDir(process.env, process.cwd());
  return {
    cwd,
    root: PACKAGE_ROOT,
    // envs/ and build/ are the caller's unless --project-dir says otherwise (main).
    projectDir: cwd,
    env: process.env,
    now: () => new Date(),
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  };
}
