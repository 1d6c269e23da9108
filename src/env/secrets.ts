// Secrets given as {"file": PATH} or {"env": "VAR"}: read on the controller when the
// environment file is loaded, so the rest of the tool only ever sees text (or an
// ansible-vault string, which stays encrypted). No message here quotes a secret.
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { jsonSchemaOf, pathsWhere, type JsonNode } from './describe.js';
import { formatPath, type EnvIssue } from './errors.js';
import { envSchema, SECRET_KEYWORD, type EnvFile, type ParsedEnv, type SecretRef } from './schema.js';
import { isVaulted } from './vault.js';

/** A password file is a few bytes; anything this large was named by mistake. */
export const SECRET_FILE_MAX = 65536;

type Outcome = { value: string } | { problem: string; example: string };

function fileProblem(code: string | undefined): string {
  if (code === 'ENOENT') return 'does not exist';
  if (code === 'EACCES') return 'cannot be read (permission denied)';
  if (code === 'ENOTDIR') return 'does not exist (a part of its path is not a directory)';
  return `cannot be read (${code ?? 'unknown error'})`;
}

/**
 * The file's text, minus one trailing line break (what `echo pw > file` and editors add).
 * Like ssh with keys, a file others may read or write is refused: the secret would not
 * be one, or someone else could replace it.
 */
function fromFile(ref: string, dir: string): Outcome {
  const full = ref === '~' || ref.startsWith('~/') ? path.join(homedir(), ref.slice(1)) : path.resolve(dir, ref);
  const where = `"${ref}"${full === ref ? '' : ` (${full})`}`;
  const example = '"secrets/mysql-password", a file of its own with mode 0600';
  let fd: number;
  try {
    // Non-blocking, so a FIFO without a writer is refused below instead of hanging here.
    fd = openSync(full, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    return { problem: `${where} ${fileProblem((error as NodeJS.ErrnoException).code)}; a relative path is relative to the environment file's directory`, example };
  }
  try {
    // Checked on the open file, so what is checked is what is read.
    const info = fstatSync(fd);
    if (info.isDirectory()) return { problem: `${where} is a directory`, example };
    if (!info.isFile()) return { problem: `${where} is not a regular file`, example };
    if ((info.mode & 0o077) !== 0) {
      const mode = (info.mode & 0o777).toString(8).padStart(4, '0');
      return { problem: `${where} has mode ${mode}: group or others may read or change it; it must be private to its owner, as ssh requires of keys`, example: `chmod 600 ${full}` };
    }
    if (info.size > SECRET_FILE_MAX) return { problem: `${where} is larger than ${SECRET_FILE_MAX} bytes; it must hold the secret alone`, example };
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(fd));
    } catch {
      return { problem: `${where} is not UTF-8 text`, example };
    }
    return checked(text.replace(/\r?\n$/, ''), where, example);
  } finally {
    closeSync(fd);
  }
}

function fromEnv(name: string, environ: NodeJS.ProcessEnv): Outcome {
  const value = environ[name];
  const example = `${name}=... set in the environment the command runs in`;
  if (value === undefined) return { problem: `the environment variable ${name} is not set`, example };
  return checked(value, `the environment variable ${name}`, example);
}

/** The rules the schema applies to a secret written as text, for one read from elsewhere. */
function checked(value: string, where: string, example: string): Outcome {
  if (value === '') return { problem: `${where} is empty`, example };
  if (value.includes('\u0000')) return { problem: `${where} holds a NUL character`, example };
  if (isVaulted(value)) {
    return {
      problem: `${where} holds an ansible-vault string; put it in the environment file itself, where it stays encrypted until Ansible decrypts it`,
      example: '"password": "$ANSIBLE_VAULT;1.1;AES256\\n..."',
    };
  }
  return { value };
}

const isSecret = (node: JsonNode) => (node as Record<string, unknown>)[SECRET_KEYWORD] === true;

function secretPaths(env: unknown) {
  return pathsWhere(jsonSchemaOf(envSchema), env, isSecret);
}

/**
 * `env` with each secret's {"file"} or {"env"} replaced by its text, and a problem (JSON
 * path, what is wrong, an example) for each one that cannot be read. Relative files are
 * found from `dir`, the environment file's directory.
 */
export function resolveSecrets(env: ParsedEnv, dir: string, environ: NodeJS.ProcessEnv): { env: EnvFile; issues: EnvIssue[] } {
  const out = structuredClone(env) as unknown as Record<PropertyKey, unknown>;
  const issues: EnvIssue[] = [];
  for (const at of secretPaths(env)) {
    const parent = at.slice(0, -1).reduce<Record<PropertyKey, unknown>>((node, key) => node[key] as Record<PropertyKey, unknown>, out);
    const key = at[at.length - 1] as PropertyKey;
    const ref = parent[key] as string | SecretRef;
    if (typeof ref === 'string') continue;
    const outcome = 'file' in ref ? fromFile(ref.file, dir) : fromEnv(ref.env, environ);
    if ('value' in outcome) parent[key] = outcome.value;
    else issues.push({ path: formatPath([...at, 'file' in ref ? 'file' : 'env']), message: outcome.problem, example: outcome.example });
  }
  return { env: out as unknown as EnvFile, issues };
}

/** JSON paths of the secrets given as ansible-vault strings, which Ansible needs a vault password for. */
export function vaultedSecrets(env: EnvFile): string[] {
  return secretPaths(env)
    .filter((at) => {
      const value = at.reduce<unknown>((node, key) => (node as Record<PropertyKey, unknown>)[key], env);
      return typeof value === 'string' && isVaulted(value);
    })
    .map((at) => formatPath(at));
}

/** ansible-playbook's ways to get a vault password: its flags, and the variables its config reads. */
const VAULT_FLAGS = /^(--vault-id|--vault-password-file|--vault-pass-file|--ask-vault-pass|--ask-vault-password|-J)(=.*)?$/;
const VAULT_VARIABLES = ['ANSIBLE_VAULT_PASSWORD_FILE', 'ANSIBLE_VAULT_IDENTITY_LIST'];

export function vaultPasswordGiven(ansibleArgs: readonly string[], environ: NodeJS.ProcessEnv): boolean {
  return ansibleArgs.some((arg) => VAULT_FLAGS.test(arg)) || VAULT_VARIABLES.some((name) => (environ[name] ?? '') !== '');
}
