// Small builders shared by the unit tests.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from '../src/cli/context.js';
import { main } from '../src/cli/main.js';
import type { z } from 'zod';
import type { envSchema } from '../src/env/schema.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** An env file as written, before the schema fills in its defaults. */
export type EnvInput = z.input<typeof envSchema>;

function readEnv(relative: string): EnvInput {
  return JSON.parse(readFileSync(path.join(ROOT, relative), 'utf8')) as EnvInput;
}

export function exampleEnv(): EnvInput {
  return readEnv('envs/example.json');
}

export function deployerEnv(): EnvInput {
  return readEnv('test/fixtures/deployer-env.json');
}

type Node = Record<string, unknown>;

/** A copy of `base` with the value at a dotted path replaced (undefined deletes it). */
export function withValue(base: object, dotted: string, value: unknown): Node {
  const copy = structuredClone(base) as Node;
  const keys = dotted.split('.');
  let node = copy;
  for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Node;
  const last = keys[keys.length - 1] as string;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The CLI's main() in this process with captured streams, a pinned clock and no colour.
 * `ctx` overrides the defaults (cwd, root and projectDir: the repository).
 */
export async function runMain(argv: string[], ctx: Partial<Context> = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    cwd: ROOT,
    root: ROOT,
    projectDir: ROOT,
    now: () => new Date('2026-02-03T00:00:00Z'),
    ...ctx,
    env: { NO_COLOR: '1', ...ctx.env },
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
  });
  return { code, stdout, stderr };
}

/** The vault strings in test/fixtures/vault (ansible-vault encrypt_string output, indented as printed). */
export const VAULT_PASSWORD_FILE = path.join(ROOT, 'test/fixtures/vault/password');
export function vaultFixture(name: 'v11' | 'v12'): string {
  return readFileSync(path.join(ROOT, `test/fixtures/vault/${name}.yml`), 'utf8').replace(/^[\s\S]*?!vault \|\n/, '');
}

/**
 * `values` encrypted by a real `ansible-vault encrypt_string` (one run for all), each as it
 * prints it after `!vault |`: indented lines. `vaultId` is "label@file" or a password file.
 */
export function vaultEncrypt(values: readonly string[], vaultId: string): string[] {
  const names = values.flatMap((_, i) => ['--name', `v${i}`]);
  const printed = execFileSync('ansible-vault', ['encrypt_string', '--vault-id', vaultId, ...names, '--', ...values], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const out: string[] = [];
  for (const line of printed.split('\n')) {
    if (/^v\d+: !vault \|$/.test(line)) out.push('');
    else if (out.length > 0 && line.startsWith(' ')) out[out.length - 1] += `${line}\n`;
  }
  if (out.length !== values.length) throw new Error(`ansible-vault encrypt_string printed ${out.length} strings for ${values.length} values`);
  return out;
}
