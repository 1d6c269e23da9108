// The MySQL password from the env file to the host's password file, through the real
// pieces: schema, secrets.yml as rendered, Ansible's templating of the role's own task
// (connection local), and the backup entrypoint reading the file into MYSQL_PWD.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EnvError } from '../../src/env/errors.js';
import { parseEnv } from '../../src/env/load.js';
import type { EnvFile } from '../../src/env/schema.js';
import { envGroup, renderProject } from '../../src/render/project.js';
import { loadSources } from '../../src/render/sources.js';
import { writeProject } from '../../src/render/write.js';
import { deployerEnv, ROOT, VAULT_PASSWORD_FILE, vaultEncrypt, withValue } from '../helpers.js';

const PASSWORDS = [
  ' lead',
  'trail ',
  '  lead and trail  \n',
  'x\n',
  '\n\n',
  'a\r\nb',
  '{"a":1}',
  '[1]',
  'yes',
  'null',
  '~',
  'True',
  '1e3',
  '0o17',
  'p\u0085q',
  'a\u2028b\u2029',
  'ünïcödé 🔑',
  '{{x}}',
  '{% raw %}',
  '!unsafe',
  '\'"`$(id)\\',
];

const TASK = 'MySQL password is kept in its own root-only file';

let hosts = 0;

/** Environments rendered together need hosts of their own (one deployment per host). */
function mysqlEnv(name: string, password: string): Record<string, unknown> {
  hosts += 1;
  const env = withValue(withValue(deployerEnv(), 'environment.name', name), 'tracker.core.database.password', password);
  return withValue(env, 'instance.host', `198.51.100.${hosts}`);
}

/**
 * The role's password task alone, run by the real ansible-playbook against one local host
 * per environment (each reading its own group_vars as rendered); returns each host's file.
 */
async function passwordFiles(envs: readonly EnvFile[], ansibleArgs: readonly string[] = []): Promise<string[]> {
  const base = mkdtempSync(path.join(tmpdir(), 'tb-password-'));
  const project = path.join(base, 'ansible');
  await writeProject(project, renderProject(envs, await loadSources(ROOT, ROOT)));
  const children = Object.fromEntries(
    envs.map((env) => [envGroup(env.environment.name), { hosts: { [env.environment.name]: { ansible_connection: 'local', ansible_python_interpreter: 'python3' } } }]),
  );
  writeFileSync(path.join(project, 'inventory.yml'), JSON.stringify({ all: { children: { tracker_servers: { children } } } }));
  const storage = readFileSync(path.join(ROOT, 'roles/tracker_backup/tasks/storage.yml'), 'utf8');
  const task = (parse(storage) as Record<string, unknown>[]).find((t) => t.name === TASK);
  expect(task, TASK).toBeDefined();
  // The role checks its variables against argument_specs first; the password must pass that too.
  const specs = parse(readFileSync(path.join(ROOT, 'roles/tracker_backup/meta/argument_specs.yml'), 'utf8')) as { argument_specs: { release: { options: Record<string, unknown> } } };
  const spec = { tracker_backup_mysql_password: specs.argument_specs.release.options.tracker_backup_mysql_password };
  const play = {
    name: 'The role password check and task alone',
    hosts: 'tracker_servers',
    gather_facts: false,
    vars: { tracker_backup_storage_dir: `${base}/hosts/{{ inventory_hostname }}` },
    tasks: [{ name: 'The password passes the role argument check', 'ansible.builtin.validate_argument_spec': { argument_spec: spec } }, task],
  };
  writeFileSync(path.join(project, 'password.yml'), JSON.stringify([play]));
  for (const env of envs) mkdirSync(path.join(base, 'hosts', env.environment.name, 'etc'), { recursive: true });
  const run = await execa('ansible-playbook', ['password.yml', ...ansibleArgs], { cwd: project, reject: false, env: { ANSIBLE_CONFIG: path.join(project, 'ansible.cfg') } });
  expect(run.exitCode, run.stdout + run.stderr).toBe(0);
  return envs.map((env) => readFileSync(path.join(base, 'hosts', env.environment.name, 'etc/mysql-password')).toString('hex'));
}

const hex = (text: string) => Buffer.from(text).toString('hex');

describe('MySQL password fidelity', () => {
  it('every password reaches the password file on the host byte for byte (real ansible-playbook)', async () => {
    const envs = PASSWORDS.map((password, i) => parseEnv('e.json', JSON.stringify(mysqlEnv(`pw-${i}`, password))));
    expect(await passwordFiles(envs)).toEqual(PASSWORDS.map(hex));
  });

  it('a password given as an ansible-vault string reaches the host byte for byte: decrypted, never templated, never retyped', async () => {
    // The passwords where Ansible could go wrong after decrypting: templating, YAML-looking
    // text turned into another type, edge whitespace, line breaks, non-ASCII.
    const tricky = ['{{x}}', '{% raw %}', '!unsafe', '{"a":1}', 'yes', 'null', '  lead and trail  \n', 'a\u2028b\u2029', 'ünïcödé 🔑'];
    // Both header versions: the default vault id (1.1) and a labelled one (1.2).
    const vaults = [...vaultEncrypt(tricky.slice(0, 5), VAULT_PASSWORD_FILE), ...vaultEncrypt(tricky.slice(5), `lab@${VAULT_PASSWORD_FILE}`)];
    const envs = vaults.map((vault, i) => parseEnv('e.json', JSON.stringify(mysqlEnv(`vault-${i}`, vault))));
    expect(await passwordFiles(envs, ['--vault-id', VAULT_PASSWORD_FILE, '--vault-id', `lab@${VAULT_PASSWORD_FILE}`])).toEqual(tricky.map(hex));
  });

  it('the backup entrypoint hands the client the file content exactly, trailing newlines included', async () => {
    const base = mkdtempSync(path.join(tmpdir(), 'tb-password-'));
    const backups = path.join(base, 'backups');
    const bin = path.join(base, 'bin');
    for (const dir of ['etc', 'mysql', 'sqlite', 'config', 'manifests']) mkdirSync(path.join(backups, dir), { recursive: true });
    mkdirSync(bin);
    writeFileSync(path.join(backups, 'etc/backup.conf'), 'DATABASE_DRIVER=mysql\nMYSQL_HOST=db\nMYSQL_PORT=3306\nMYSQL_DATABASE=t\nMYSQL_USER=u\nRETENTION_DAYS=7\nCOMPRESSION=gzip\n');
    // Stand-in clients: each records the MYSQL_PWD it was given.
    for (const client of ['mysqladmin', 'mysqldump']) {
      writeFileSync(
        path.join(bin, client),
        `#!/usr/bin/env bash\nprintf '%s' "$MYSQL_PWD" >"${base}/${client}.pwd"\nfor arg; do case "$arg" in --result-file=*) printf -- '-- Dump completed\\n' >"\${arg#--result-file=}";; esac; done\n`,
      );
      chmodSync(path.join(bin, client), 0o755);
    }
    for (const password of ['  lead and trail  \n', 'x\n\n', 'plain']) {
      writeFileSync(path.join(backups, 'etc/mysql-password'), password, { mode: 0o600 });
      const run = await execa('bash', [path.join(ROOT, 'roles/tracker_backup/files/lib/backup.sh'), 'snapshot'], {
        reject: false,
        env: { PATH: `${bin}:${process.env.PATH}`, TRACKER_BACKUP_BACKUPS_DIR: backups, TRACKER_BACKUP_DATA_DIR: base, BACKUP_STAMP: '20260210_030000' },
      });
      expect(run.exitCode, run.stderr).toBe(0);
      for (const client of ['mysqladmin', 'mysqldump']) {
        expect(readFileSync(path.join(base, `${client}.pwd`), 'utf8'), `${client} ${JSON.stringify(password)}`).toBe(password);
      }
    }
  });

  it('refuses at validate a password Ansible cannot carry: a lone surrogate', () => {
    for (const password of ['a\ud800b', '\udc00', 'x\ud83d']) {
      const attempt = () => parseEnv('e.json', JSON.stringify(mysqlEnv('pw', password)));
      expect(attempt).toThrow(EnvError);
      expect(attempt).toThrow(/password: must be valid Unicode/);
    }
    // A pair is one character and fine.
    expect(parseEnv('e.json', JSON.stringify(mysqlEnv('pw', 'key \ud83d\udd11'))).tracker.core.database).toMatchObject({ password: 'key 🔑' });
  });
});
