// Strict flag parsing shared by every command: unknown flags and stray arguments are
// usage errors, never silently ignored. Everything after a literal -- is ansible-playbook's.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { refusedAnsibleArg } from '../ansible/command.js';
import { closest } from '../env/errors.js';
import { UsageError } from './context.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

/** Flags people reach for that belong to ansible-playbook, not to this tool. */
const ANSIBLE_FLAGS = /^(-[KkvDb]+|--(limit|tags|skip-tags|vault-id|vault-password-file|ask-vault-pass|ask-become-pass|forks|diff|become|verbose|start-at-task|step)(=.*)?|-[lftu].*)$/;

function unknownFlag(command: string, flag: string, options: Options): string {
  const names = [...Object.keys(options), 'help'].map((name) => `--${name}`);
  if (ANSIBLE_FLAGS.test(flag)) return `${command}: unknown flag ${flag}; flags for ansible-playbook go after a literal --, as in: npm run ${command} -- --env <name> -- ${flag}`;
  const guess = flag.startsWith('--') ? closest(flag, names) : undefined;
  if (guess) return `${command}: unknown flag ${flag}; did you mean ${guess}?`;
  return `${command}: unknown flag ${flag} (known: ${names.join(', ')})`;
}

export function parseFlags<T extends Options>(command: string, argv: string[], options: T) {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length > 0) throw new UsageError(`${command}: unexpected argument "${positionals[0]}"`);
    return values;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const unknown = /^Unknown option '([^']+)'/.exec((error as Error).message);
    if (unknown?.[1]) throw new UsageError(unknownFlag(command, unknown[1], options));
    throw new UsageError(`${command}: ${(error as Error).message}`);
  }
}

/**
 * The command's own flags, and what follows the first literal -- (for ansible-playbook),
 * each word checked: a flag the tool sets itself is refused with the reason.
 */
export function splitAnsibleArgs(command: string, argv: readonly string[]): { own: string[]; ansible: string[] } {
  const at = argv.indexOf('--');
  if (at < 0) return { own: [...argv], ansible: [] };
  const ansible = argv.slice(at + 1);
  for (const arg of ansible) {
    const reason = refusedAnsibleArg(arg);
    if (reason) throw new UsageError(`${command}: ${arg} after -- is refused: ${reason}`);
  }
  return { own: argv.slice(0, at), ansible };
}

/** Commands that run no ansible-playbook take nothing after --. */
export function noAnsibleArgs(command: string, argv: readonly string[]): string[] {
  const at = argv.indexOf('--');
  if (at >= 0) throw new UsageError(`${command}: runs no ansible-playbook, so nothing may follow --`);
  return [...argv];
}

/** --env may be given several times; every command reads it the same way. */
export const ENV_FLAG = { type: 'string', multiple: true } as const;

/** Every flag of every command, for the npm_config_* hint. */
const ALL_FLAGS = ['env', 'out', 'check', 'phase', 'json', 'at', 'only', 'yes', 'from-dir'];

function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * `npm run x --env y` (no -- before it) gives --env to npm, which hands it on only as
 * npm_config_env=y: what was probably meant, with every flag npm took that way and what
 * did reach the CLI, or '' when npm took no --env.
 */
export function npmHint(command: string, env: NodeJS.ProcessEnv, argv: readonly string[]): string {
  if (env.npm_config_env === undefined || argv.includes('--env') || argv.some((arg) => arg.startsWith('--env='))) return '';
  const words = ALL_FLAGS.flatMap((flag) => {
    const value = env[`npm_config_${flag.replaceAll('-', '_')}`];
    if (value === undefined) return [];
    return value === 'true' || value === '' ? [`--${flag}`] : [`--${flag}`, shellWord(value)];
  });
  return `npm took --env itself (npm_config_env is set): did you mean \`npm run ${command} -- ${[...words, ...argv.map(shellWord)].join(' ')}\`?`;
}

export function requireEnvFlag(command: string, value: unknown): string[] {
  const refs = Array.isArray(value) ? value : [];
  if (refs.length === 0 || refs.some((ref) => typeof ref !== 'string' || ref === '')) {
    throw new UsageError(`${command}: --env <name|path> is required`);
  }
  return refs as string[];
}
