// Entry point: picks the command, turns expected failures into one clear line and an
// exit code, and is the only place that sets the process's exit code.
import { EnvError, printable } from '../env/errors.js';
import { PACKAGE_ROOT } from '../render/sources.js';
import { MAIN_HELP, provisionCommand, renderCommand, validateCommand } from './commands.js';
import { backupCommand, backupsCommand, restoreCommand } from './operations.js';
import { npmHint } from './args.js';
import { EXIT, UsageError, type Context } from './context.js';

const COMMANDS: Record<string, (argv: string[], ctx: Context) => Promise<number>> = {
  validate: validateCommand,
  render: renderCommand,
  provision: provisionCommand,
  backup: backupCommand,
  backups: backupsCommand,
  restore: restoreCommand,
};

export async function main(argv: string[], ctx: Context): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? ctx.stderr : ctx.stdout)(MAIN_HELP);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS[name];
  try {
    if (!command) throw new UsageError(`unknown command "${name}" (expected ${Object.keys(COMMANDS).join(', ')})`);
    return await command(rest, ctx);
  } catch (error) {
    if (error instanceof UsageError) {
      const hint = npmHint(name, ctx.env, rest);
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

export function processContext(): Context {
  return {
    // npm run changes into the package directory; INIT_CWD is where the user was.
    cwd: process.env.INIT_CWD ?? process.cwd(),
    root: PACKAGE_ROOT,
    env: process.env,
    now: () => new Date(),
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  };
}
