// Strict flag parsing shared by every command: unknown flags and stray arguments are
// usage errors, never silently ignored.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './context.js';

type Options = NonNullable<ParseArgsConfig['options']>;

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
    throw new UsageError(`${command}: ${(error as Error).message}`);
  }
}

/** --env may be given several times; every command reads it the same way. */
export const ENV_FLAG = { type: 'string', multiple: true } as const;

export function requireEnvFlag(command: string, value: unknown): string[] {
  const refs = Array.isArray(value) ? value : [];
  if (refs.length === 0 || refs.some((ref) => typeof ref !== 'string' || ref === '')) {
    throw new UsageError(`${command}: --env <name|path> is required`);
  }
  return refs as string[];
}
