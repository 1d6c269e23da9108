// Secrets in their four forms (text, {"file"}, {"env"}, an ansible-vault string): each
// accepted form reaches the role's variables exactly, each refusal names the JSON path,
// what is wrong and an example, and no message quotes the secret.
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EnvError, type EnvIssue } from '../../src/env/errors.js';
import { parseEnv } from '../../src/env/load.js';
import { SECRET_FILE_MAX, vaultedSecrets, vaultPasswordGiven } from '../../src/env/secrets.js';
import { renderProject, secretsFile } from '../../src/render/project.js';
import { loadSources } from '../../src/render/sources.js';
import { roleVars } from '../../src/render/vars.js';
import { deployerEnv, ROOT, vaultFixture, withValue } from '../helpers.js';

const FIELD = 'tracker.core.database.password';
const SECRET = 'file-secret {{ x }} $(id)';

/** An env file in a directory of its own, with the password given as `password`. */
function envDir(password: unknown): { dir: string; file: string; text: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'tb-secrets-'));
  return { dir, file: path.join(dir, 'env.json'), text: JSON.stringify(withValue(deployerEnv(), FIELD, password)) };
}

function secretFile(dir: string, name: string, content: string | Buffer, mode = 0o600): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  chmodSync(file, mode);
  return file;
}

function passwordOf(file: string, text: string, environ: NodeJS.ProcessEnv = {}): string {
  const database = parseEnv(file, text, environ).tracker.core.database;
  if (database.driver !== 'mysql') throw new Error('not MySQL');
  return database.password;
}

function issuesOf(file: string, text: string, environ: NodeJS.ProcessEnv = {}): EnvIssue[] {
  try {
    parseEnv(file, text, environ);
  } catch (error) {
    if (error instanceof EnvError) {
      // Whatever went wrong, the secret itself is never part of the message.
      expect(error.message).not.toContain(SECRET);
      return [...error.issues];
    }
    throw error;
  }
  throw new Error('expected the environment to be rejected');
}

describe('{"file": PATH}', () => {
  it('reads the file relative to the env file, not the current directory, and keeps its bytes but one trailing newline', () => {
    for (const [content, expected] of [
      [`${SECRET}\n`, SECRET],
      [SECRET, SECRET],
      ['  edge spaces  \n\n', '  edge spaces  \n'],
      ['windows\r\n', 'windows'],
      ['ünïcödé 🔑\n', 'ünïcödé 🔑'],
    ] as const) {
      const { dir, file, text } = envDir({ file: 'secrets/mysql' });
      mkdirSync(path.join(dir, 'secrets'));
      secretFile(dir, 'secrets/mysql', content);
      expect(passwordOf(file, text), JSON.stringify(content)).toBe(expected);
    }
  });

  it('takes an absolute path as it is', () => {
    const elsewhere = mkdtempSync(path.join(tmpdir(), 'tb-secret-abs-'));
    const { file, text } = envDir({ file: secretFile(elsewhere, 'pw', SECRET) });
    expect(passwordOf(file, text)).toBe(SECRET);
  });

  it.each([
    ['a missing file', (dir: string) => path.join(dir, 'missing'), 'does not exist'],
    ['a directory', (dir: string) => (mkdirSync(path.join(dir, 'd')), 'd'), 'is a directory'],
    ['a FIFO', (dir: string) => (execFileSync('mkfifo', [path.join(dir, 'fifo')]), 'fifo'), 'is not a regular file'],
    ['a group-readable file', (dir: string) => secretFile(dir, 'pw', SECRET, 0o640), 'has mode 0640: group or others may read or change it'],
    ['a world-readable file', (dir: string) => secretFile(dir, 'pw', SECRET, 0o604), 'has mode 0604'],
    ['a group-writable file', (dir: string) => secretFile(dir, 'pw', SECRET, 0o620), 'has mode 0620'],
    ['an empty file', (dir: string) => secretFile(dir, 'pw', ''), 'is empty'],
    ['a file holding only a newline', (dir: string) => secretFile(dir, 'pw', '\n'), 'is empty'],
    ['a file that is not UTF-8', (dir: string) => secretFile(dir, 'pw', Buffer.from([0x70, 0xff, 0x0a])), 'is not UTF-8 text'],
    ['a NUL in the file', (dir: string) => secretFile(dir, 'pw', 'a\0b'), 'holds a NUL character'],
    ['a huge file', (dir: string) => secretFile(dir, 'pw', 'x'.repeat(SECRET_FILE_MAX + 1)), `is larger than ${SECRET_FILE_MAX} bytes`],
    ['an ansible-vault file', (dir: string) => secretFile(dir, 'pw', vaultFixture('v11')), 'holds an ansible-vault string'],
  ])('refuses %s, naming the path and giving an example', (_label, make, problem) => {
    const { dir, file } = envDir(undefined);
    const ref = make(dir);
    const text = JSON.stringify(withValue(deployerEnv(), FIELD, { file: ref }));
    const issues = issuesOf(file, text);
    expect(issues).toEqual([expect.objectContaining({ path: `${FIELD}.file` })]);
    expect(issues[0]?.message).toContain(problem);
    expect(issues[0]?.example).toBeTruthy();
  });

  it('refuses an unreadable file (as a user without the right to read it)', () => {
    if (process.getuid?.() === 0) {
      // root reads every file; the EACCES branch is still typed and reachable for operators.
      const { dir, file } = envDir(undefined);
      secretFile(dir, 'pw', SECRET, 0o000);
      const text = JSON.stringify(withValue(deployerEnv(), FIELD, { file: 'pw' }));
      expect(passwordOf(file, text)).toBe(SECRET);
      process.stdout.write('SKIPPED: the "permission denied" refusal: tests run as root, who can read a mode 0000 file\n');
      return;
    }
    const { dir, file } = envDir(undefined);
    secretFile(dir, 'pw', SECRET, 0o000);
    const issues = issuesOf(file, JSON.stringify(withValue(deployerEnv(), FIELD, { file: 'pw' })));
    expect(issues[0]?.message).toContain('permission denied');
  });

  it('says how to fix a file others may read: chmod 600', () => {
    const { dir, file } = envDir(undefined);
    const pw = secretFile(dir, 'pw', SECRET, 0o644);
    const [issue] = issuesOf(file, JSON.stringify(withValue(deployerEnv(), FIELD, { file: 'pw' })));
    expect(issue?.example).toBe(`chmod 600 ${pw}`);
  });

  it('refuses an empty path or one with a line break in the schema, with the field\'s example', () => {
    const { file } = envDir(undefined);
    for (const [ref, problem] of [['', 'must not be empty'], ['a\nb', 'control characters']] as const) {
      const issues = issuesOf(file, JSON.stringify(withValue(deployerEnv(), FIELD, { file: ref })));
      expect(issues).toEqual([{ path: `${FIELD}.file`, message: expect.stringContaining(problem) as unknown, example: '"secrets/mysql-password"' }]);
    }
  });
});

describe('{"env": "VAR"}', () => {
  it('reads the variable from the given environment, byte for byte', () => {
    const { file, text } = envDir({ env: 'TB_DB_PASSWORD' });
    expect(passwordOf(file, text, { TB_DB_PASSWORD: ` ${SECRET}\n` })).toBe(` ${SECRET}\n`);
  });

  it.each([
    ['unset', {}, 'the environment variable TB_DB_PASSWORD is not set'],
    ['empty', { TB_DB_PASSWORD: '' }, 'the environment variable TB_DB_PASSWORD is empty'],
    ['a vault string', { TB_DB_PASSWORD: vaultFixture('v11') }, 'holds an ansible-vault string'],
  ])('refuses a variable that is %s, naming it', (_label, environ, problem) => {
    const { file, text } = envDir({ env: 'TB_DB_PASSWORD' });
    const issues = issuesOf(file, text, environ);
    expect(issues).toEqual([expect.objectContaining({ path: `${FIELD}.env`, message: expect.stringContaining(problem) as unknown })]);
    expect(issues[0]?.example).toBeTruthy();
  });

  it('refuses a name that is no variable name', () => {
    const { file, text } = envDir({ env: '1-bad' });
    expect(issuesOf(file, text)).toEqual([{ path: `${FIELD}.env`, message: expect.stringContaining('environment variable name') as unknown, example: '"TRACKER_DB_PASSWORD"' }]);
  });
});

describe('an ansible-vault string', () => {
  it.each(['v11', 'v12'] as const)('%s is accepted as printed (indented) and rendered as a 0600 !vault value in ansible-vault\'s own layout', async (name) => {
    const vault = vaultFixture(name);
    const { file, text } = envDir(vault);
    const env = parseEnv(file, text, {});
    const project = renderProject(env, await loadSources('/home/op', ROOT));
    const secrets = project.get(secretsFile('tracker-demo'));
    expect(secrets?.mode).toBe(0o600);
    const lines = vault.trim().split('\n').map((l) => l.trim());
    expect(secrets?.content).toContain(`tracker_backup_mysql_password: !vault |-\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
    const read = parse(secrets?.content ?? '', { customTags: [{ tag: '!vault', resolve: (s: string) => s }] }) as Record<string, string>;
    expect(read.tracker_backup_mysql_password).toBe(lines.join('\n'));
    expect(roleVars(env).vars).not.toHaveProperty('tracker_backup_mysql_password');
  });

  it.each([
    ['an unknown version', (v: string) => v.replace('1.1;AES256', '1.3;AES256'), 'its first line must be'],
    ['another cipher', (v: string) => v.replace('1.1;AES256', '1.1;AES128'), 'its first line must be'],
    ['1.2 without a vault id', (v: string) => v.replace('1.1;AES256', '1.2;AES256'), 'its first line must be'],
    ['no body', () => '$ANSIBLE_VAULT;1.1;AES256\n', 'has nothing after the header line'],
    ['a body that is not hex', (v: string) => v.replace(/\n(\s*)3/, '\n$1g'), 'only hexadecimal digits'],
    ['a body cut short', (v: string) => v.split('\n').slice(0, 3).join('\n'), 'is cut short or damaged'],
    ['text that merely starts like one', () => '$ANSIBLE_VAULT;my password', 'its first line must be'],
  ])('refuses %s, with the field path, and says it is not a vault string', (_label, change, problem) => {
    const { file, text } = envDir(change(vaultFixture('v11')));
    const issues = issuesOf(file, text);
    expect(issues).toEqual([expect.objectContaining({ path: FIELD, message: expect.stringContaining('is not an ansible-vault string') as unknown })]);
    expect(issues[0]?.message).toContain(problem);
    expect(issues[0]?.example).toBe('"s3cret-Pa$$word"');
  });
});

describe('the forms together', () => {
  it.each([
    ['an empty object', {}],
    ['both file and env', { file: 'a', env: 'B' }],
    ['a number', 1234],
    ['a list', ['pw']],
  ])('refuses %s, listing the four forms', (_label, value) => {
    const { file, text } = envDir(value);
    expect(issuesOf(file, text)).toEqual([
      { path: FIELD, message: 'must be the secret as text, {"file": "PATH"}, {"env": "VARIABLE"} or an ansible-vault string', example: '"s3cret-Pa$$word"' },
    ]);
  });

  it('lists a secret that cannot be read together with every other problem', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tb-secrets-'));
    const data = withValue(withValue(deployerEnv(), FIELD, { env: 'TB_UNSET' }), 'backup.sqlite_path', 'storage/x.db');
    const issues = issuesOf(path.join(dir, 'env.json'), JSON.stringify(data));
    expect(issues.map((i) => i.path).sort()).toEqual(['backup.sqlite_path', `${FIELD}.env`]);
  });

  it('a plain text password is still taken as it is', () => {
    const { file, text } = envDir(SECRET);
    expect(passwordOf(file, text)).toBe(SECRET);
  });
});

describe('the vault password Ansible needs', () => {
  it('lists the secrets given as vault strings, and only those', () => {
    const { file, text } = envDir(vaultFixture('v12'));
    expect(vaultedSecrets(parseEnv(file, text, {}))).toEqual([FIELD]);
    const plain = envDir(SECRET);
    expect(vaultedSecrets(parseEnv(plain.file, plain.text, {}))).toEqual([]);
  });

  it.each([
    [['--vault-password-file', '/k'], {}, true],
    [['--vault-password-file=/k'], {}, true],
    [['--vault-id', 'prod@prompt'], {}, true],
    [['--ask-vault-pass'], {}, true],
    [['-J'], {}, true],
    [[], { ANSIBLE_VAULT_PASSWORD_FILE: '/k' }, true],
    [[], { ANSIBLE_VAULT_IDENTITY_LIST: 'prod@/k' }, true],
    [['-v', '--limit', 'x'], {}, false],
    [[], { ANSIBLE_VAULT_PASSWORD_FILE: '' }, false],
  ] as const)('ansible args %j with %j give one: %s', (args, environ, given) => {
    expect(vaultPasswordGiven(args, environ)).toBe(given);
  });
});
