// The only place an environment file is read. Returns a typed, defaulted value or throws
// one EnvError listing every problem.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { duplicateKeys, MAX_DEPTH, nestingDepth } from './duplicates.js';
import { EnvError, formatPath, type EnvIssue } from './errors.js';
import { issuesFromZod } from './zod-issues.js';
import { crossFieldIssues } from './rules.js';
import { resolveSecrets } from './secrets.js';
import { envSchema, type EnvFile } from './schema.js';

export interface LoadedEnv {
  /** Absolute path of the file read. */
  file: string;
  env: EnvFile;
}

/** `my-deployment` means envs/my-deployment.json under `root`; anything with a slash or .json is a path. */
export function resolveEnvPath(ref: string, root: string, cwd: string): string {
  if (ref.includes('/') || ref.endsWith('.json')) return path.resolve(cwd, ref);
  return path.join(root, 'envs', `${ref}.json`);
}

/** Editors on Windows save UTF-8 with a byte-order mark; it carries no meaning in JSON. */
const BOM = '\uFEFF';

/**
 * The file's text checked against the schema and the cross-field rules, with its secrets
 * read: {"file"} relative to `file`'s directory, {"env"} from `environ`.
 */
export function parseEnv(file: string, withBom: string, environ: NodeJS.ProcessEnv = process.env): EnvFile {
  const text = withBom.startsWith(BOM) ? withBom.slice(BOM.length) : withBom;
  const depth = nestingDepth(text);
  if (depth > MAX_DEPTH) {
    throw new EnvError(file, [{ path: '(file)', message: `nests objects and lists ${depth} levels deep; an environment file needs at most ${MAX_DEPTH}` }]);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new EnvError(file, [{ path: '(file)', message: `is not valid JSON: ${(error as Error).message}` }]);
  }
  const duplicates: EnvIssue[] = duplicateKeys(text).map((path) => ({
    path: formatPath(path),
    message: 'duplicate key (JSON would silently keep only the last one)',
    example: 'keep one of them',
  }));
  const result = envSchema.safeParse(data);
  if (!result.success) throw new EnvError(file, [...duplicates, ...issuesFromZod(result.error, envSchema, data)]);
  const { env, issues } = resolveSecrets(result.data, path.dirname(path.resolve(file)), environ);
  const logical: EnvIssue[] = [...duplicates, ...crossFieldIssues(env), ...issues];
  if (logical.length > 0) throw new EnvError(file, logical);
  return env;
}

export async function loadEnv(file: string, environ: NodeJS.ProcessEnv = process.env): Promise<LoadedEnv> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new EnvError(file, [{ path: '(file)', message: code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})` }]);
  }
  return { file, env: parseEnv(file, text, environ) };
}
