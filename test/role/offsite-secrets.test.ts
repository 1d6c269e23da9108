// backup.offsite from the environment file to the host's etc/offsite/ files, through the
// real pieces: the schema (ranges, repository forms, secret forms), the rendered
// group_vars and secrets.yml, and the role's tasks/offsite.yml run by the real
// ansible-playbook (connection local): 0600 root files, byte for byte, no secret in the
// output or --diff, a second run changes nothing, and dropping backup.offsite removes them.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { EnvError } from '../../src/env/errors.js';
import { parseEnv } from '../../src/env/load.js';
import type { EnvFile } from '../../src/env/schema.js';
import { envGroup, renderProject } from '../../src/render/project.js';
import { loadSources } from '../../src/render/sources.js';
import { writeProject } from '../../src/render/write.js';
import { deployerEnv, ROOT, withValue } from '../helpers.js';

const PASSWORD = 'restic {{ pass }} \u00fc\n';
const KEY_ID = 'AKIA{% raw %}';
const KEY_SECRET = 'from the environment';

function offsiteEnv(offsite: unknown): Record<string, unknown> {
  return withValue(withValue(deployerEnv(), 'environment.name', 'offsite'), 'backup.offsite', offsite);
}

const OFFSITE = {
  repository: 'rest:https://user:pw@backup.example.org:8000/tracker',
  password: PASSWORD,
  env: { AWS_ACCESS_KEY_ID: KEY_ID, AWS_SECRET_ACCESS_KEY: { env: 'TB_TEST_SECRET' } },
  known_hosts: ['backup.example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOffsite'],
};

/** The role's offsite.yml alone against a local store, with the rendered variables. */
async function provision(env: EnvFile, base: string, extra: readonly string[] = []) {
  const project = path.join(base, 'ansible');
  await writeProject(project, renderProject(env, await loadSources(ROOT, ROOT)));
  const children = { [envGroup(env.environment.name)]: { hosts: { local: { ansible_connection: 'local', ansible_python_interpreter: 'python3' } } } };
  writeFileSync(path.join(project, 'inventory.yml'), JSON.stringify({ all: { children: { tracker_servers: { children } } } }));
  const play = {
    name: 'The role offsite tasks alone',
    hosts: 'tracker_servers',
    gather_facts: false,
    vars: { tracker_backup_deploy_dir: base },
    // include_role, so the role's defaults apply below the rendered group_vars.
    tasks: [{ name: 'Offsite tasks', 'ansible.builtin.include_role': { name: 'tracker_backup', tasks_from: 'offsite' } }],
  };
  writeFileSync(path.join(project, 'offsite.yml'), JSON.stringify([play]));
  mkdirSync(path.join(base, 'storage/backup/etc'), { recursive: true });
  const run = await execa('ansible-playbook', ['offsite.yml', ...extra], { cwd: project, reject: false, env: { ANSIBLE_CONFIG: path.join(project, 'ansible.cfg') } });
  expect(run.exitCode, run.stdout + run.stderr).toBe(0);
  return run.stdout + run.stderr;
}

const mode = (file: string) => (statSync(file).mode & 0o777).toString(8);

describe('backup.offsite in the environment file', () => {
  it('refuses values out of range, unknown repository forms and bad credential names, naming the field', () => {
    const cases: [unknown, RegExp][] = [
      [{ ...OFFSITE, keep_daily: -1 }, /backup\.offsite\.keep_daily: must be at least 0/],
      [{ ...OFFSITE, check_every_days: 400 }, /backup\.offsite\.check_every_days: must be at most 365/],
      [{ ...OFFSITE, check_read_data_subset: '150%' }, /backup\.offsite\.check_read_data_subset: must be a percentage/],
      [{ ...OFFSITE, repository: 'ftp://backup.example.org/x' }, /backup\.offsite\.repository: must be a restic repository/],
      [{ ...OFFSITE, repository: 'relative/path' }, /backup\.offsite\.repository: must be a restic repository/],
      [{ ...OFFSITE, env: { aws_key: 'x' } }, /backup\.offsite\.env/],
      [{ ...OFFSITE, password: '' }, /backup\.offsite\.password/],
      [{ repository: OFFSITE.repository }, /backup\.offsite\.password/],
    ];
    for (const [offsite, message] of cases) {
      const attempt = () => parseEnv('e.json', JSON.stringify(offsiteEnv(offsite)), { TB_TEST_SECRET: KEY_SECRET });
      expect(attempt, JSON.stringify(offsite)).toThrow(EnvError);
      expect(attempt, JSON.stringify(offsite)).toThrow(message);
    }
  });

  it('reads a credential given as {"env"} like every secret, and refuses an unset one', () => {
    const env = parseEnv('e.json', JSON.stringify(offsiteEnv(OFFSITE)), { TB_TEST_SECRET: KEY_SECRET });
    expect(env.backup?.offsite?.env).toEqual({ AWS_ACCESS_KEY_ID: KEY_ID, AWS_SECRET_ACCESS_KEY: KEY_SECRET });
    expect(env.backup?.offsite).toMatchObject({ keep_daily: 7, keep_weekly: 4, keep_monthly: 6, check_every_days: 7, check_read_data_subset: '5%' });
    expect(() => parseEnv('e.json', JSON.stringify(offsiteEnv(OFFSITE)), {})).toThrow(/backup\.offsite\.env\.AWS_SECRET_ACCESS_KEY\.env/);
  });
});

describe('the role writes the off-site secrets (real ansible-playbook)', () => {
  it('0600 root files byte for byte in a 0700 directory, no secret in the output or --diff, changed=0 the second time, removed without backup.offsite', async () => {
    const base = mkdtempSync(path.join(tmpdir(), 'tb-offsite-'));
    const env = parseEnv('e.json', JSON.stringify(offsiteEnv(OFFSITE)), { TB_TEST_SECRET: KEY_SECRET });
    const first = await provision(env, base, ['--diff']);
    const dir = path.join(base, 'storage/backup/etc/offsite');
    expect(mode(dir)).toBe('700');
    expect(readFileSync(path.join(dir, 'repository'), 'utf8')).toBe(OFFSITE.repository);
    expect(readFileSync(path.join(dir, 'password'), 'utf8')).toBe(PASSWORD);
    expect(readFileSync(path.join(dir, 'env/AWS_ACCESS_KEY_ID'), 'utf8')).toBe(KEY_ID);
    expect(readFileSync(path.join(dir, 'env/AWS_SECRET_ACCESS_KEY'), 'utf8')).toBe(KEY_SECRET);
    expect(readFileSync(path.join(dir, 'known_hosts'), 'utf8')).toBe(`${OFFSITE.known_hosts[0]}\n`);
    for (const file of ['repository', 'password', 'env/AWS_ACCESS_KEY_ID', 'env/AWS_SECRET_ACCESS_KEY', 'known_hosts']) {
      expect(mode(path.join(dir, file)), file).toBe('600');
      expect(statSync(path.join(dir, file)).uid, file).toBe(0);
    }
    for (const secret of ['restic {{ pass }}', KEY_ID, KEY_SECRET, 'user:pw@']) expect(first, secret).not.toContain(secret);

    const second = await provision(env, base, ['--diff']);
    expect(second).toMatch(/local\s*:\s*ok=\d+\s+changed=0 /);

    // A credential dropped from the file goes from the host.
    const fewer = parseEnv('e.json', JSON.stringify(offsiteEnv({ ...OFFSITE, env: { AWS_ACCESS_KEY_ID: KEY_ID } })), {});
    await provision(fewer, base);
    expect(readdirSync(path.join(dir, 'env'))).toEqual(['AWS_ACCESS_KEY_ID']);

    const without = parseEnv('e.json', JSON.stringify(withValue(deployerEnv(), 'environment.name', 'offsite')), {});
    await provision(without, base);
    expect(readdirSync(path.join(base, 'storage/backup/etc'))).not.toContain('offsite');
  });
});
