// Entry point: picks the command, turns expected failures into one clear line and an
// exit code, and is the only place that sets the process's exit code.
import { EnvError } from '../env/errors.js';
import { PACKAGE_ROOT } from '../render/sources.js';
import { MAIN_HELP, provisionCommand, renderCommand, validateCommand } from './commands.js';
import { backupCommand, backupsCommand, restoreCommand } from './operations.js';
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
      ctx.stderr(`error: ${error.message}\nRun with --help for usage.\n`);
      return EXIT.usage;
    }
    if (error instanceof EnvError) {
      ctx.stderr(`error: ${error.message}\nNothing was written or changed.\n`);
      return EXIT.failed;
    }
    throw error;
  }
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
