// Small builders shared by the unit tests.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export function exampleEnv(): Record<string, any> {
  return JSON.parse(readFileSync(path.join(ROOT, 'envs/example.json'), 'utf8'));
}

export function deployerEnv(): Record<string, any> {
  return JSON.parse(readFileSync(path.join(ROOT, 'test/fixtures/deployer-env.json'), 'utf8'));
}

/** A copy of `base` with the value at a dotted path replaced (undefined deletes it). */
export function withValue(base: Record<string, any>, dotted: string, value: unknown): Record<string, any> {
  const copy = structuredClone(base);
  const keys = dotted.split('.');
  let node = copy;
  for (const key of keys.slice(0, -1)) node = node[key] ??= {};
  const last = keys[keys.length - 1] as string;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}
