import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { buildName } from '../../src/cli/pipeline.js';
import { deployerEnv, exampleEnv, ROOT, runMain, vaultFixture, withValue } from '../helpers.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const cli = (argv: string[], cwd = ROOT): Promise<Run> => runMain(argv, { cwd });

function envFile(data: unknown): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tb-cli-'));
  const file = path.join(dir, 'env.json');
  writeFileSync(file, JSON.stringify(data));
  return file;
}

describe('validate', () => {
  it('exits 0 for the example env and shows the next three backups in UTC', async () => {
    const run = await cli(['validate', '--env', 'example']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('envs/example.json is valid.');
    expect(run.stdout).toContain('2026-02-03 03:00 UTC, 2026-02-04 03:00 UTC, 2026-02-05 03:00 UTC');
    expect(run.stdout).toContain('retention:   7 days');
    expect(run.stdout).toContain('sqlite3 (storage/tracker/lib/database/tracker.db)');
  });

  it('exits 1 and names every broken field on stderr', async () => {
    const run = await cli(['validate', '--env', envFile(withValue(withValue(exampleEnv(), 'backup.retention_days', 0), 'backup.schedul', 'x'))]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('backup.retention_days: must be at least 1 (example: 7)');
    expect(run.stderr).toContain('backup.schedul: unknown key; did you mean "schedule"?');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('prints a warning for a schedule that never runs, and still exits 0', async () => {
    const run = await cli(['validate', '--env', envFile(withValue(exampleEnv(), 'backup.schedule', '0 0 31 2 *'))]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('next runs:   never');
    expect(run.stdout).toContain('warning: backup.schedule "0 0 31 2 *" never runs');
  });

  it('exits 1 for a missing file', async () => {
    const run = await cli(['validate', '--env', 'no-such-env']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no-such-env.json: 1 problem');
    expect(run.stderr).toContain('does not exist');
  });

  it.each([
    [['validate'], '--env <name|path> is required'],
    [['validate', '--env', 'example', '--bogus'], 'validate: unknown flag --bogus (known: --env, --json, --help)'],
    [['validate', '--env', 'example', 'stray'], 'unexpected argument "stray"'],
    [['provision', '--env', 'example', '--phase', 'deploy'], '--phase must be release, run or all'],
    [['frobnicate'], 'unknown command "frobnicate"'],
    [['restore', '--env', 'example', '--at', 'yesterday'], '--at takes YYYYMMDD_HHMMSS or latest'],
    [['restore', '--env', 'example', '--only', 'everything'], '--only takes database or config'],
    [['restore', '--env', 'example', '--from', 'cloud'], '--from takes local or offsite'],
    [['restore', '--env', 'example', '--from', 'offsite', '--from-dir', 'fetched'], '--from offsite and --from-dir are two different sources'],
    [['backups', '--env', 'example', '--jsn'], 'backups: unknown flag --jsn; did you mean --json?'],
  ])('exits 2 on usage error %j, in one line without a stack trace', async (argv, message) => {
    const run = await cli(argv);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it.each(['validate', 'render', 'provision', 'backup', 'backups', 'restore'])('%s --help exits 0 and lists the exit codes', async (command) => {
    const run = await cli([command, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Exit codes: 0');
    expect(run.stdout).toContain('2 usage error');
  });
});

describe('render', () => {
  it('writes nothing at all for an invalid environment', async () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'tb-out-')), 'project');
    const run = await cli(['render', '--env', envFile(withValue(exampleEnv(), 'backup.retention_days', 400)), '--out', out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Nothing was written or changed.');
    expect(existsSync(out)).toBe(false);
  });

  it('leaves the previous project untouched when the new environment is invalid', async () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'tb-out-')), 'project');
    expect((await cli(['render', '--env', 'example', '--out', out])).code).toBe(0);
    const before = readFileSync(path.join(out, 'group_vars/env_my_deployment/tracker_backup.yml'), 'utf8');
    expect((await cli(['render', '--env', envFile(withValue(exampleEnv(), 'backup.schedule', 'bad')), '--out', out])).code).toBe(1);
    expect(readFileSync(path.join(out, 'group_vars/env_my_deployment/tracker_backup.yml'), 'utf8')).toBe(before);
  });

  it('renders several --env files into one project with one inventory, and refuses duplicate names', async () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'tb-out-')), 'project');
    const second = envFile(withValue(withValue(exampleEnv(), 'environment.name', 'second'), 'instance.host', '203.0.113.20'));
    const run = await cli(['render', '--env', 'example', '--env', second, '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    const inventory = readFileSync(path.join(out, 'inventory.yml'), 'utf8');
    expect(inventory).toContain('env_my_deployment:');
    expect(inventory).toContain('env_second:');
    expect(existsSync(path.join(out, 'group_vars/env_second/tracker_backup.yml'))).toBe(true);
    const out2 = path.join(mkdtempSync(path.join(tmpdir(), 'tb-out-')), 'project');
    const twice = await cli(['render', '--env', 'example', '--env', 'example', '--out', out2]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('environment name "my-deployment" is given twice');
    expect(existsSync(out2)).toBe(false);
  });

  it('writes nothing when any one of several --env files is invalid', async () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'tb-out-')), 'project');
    const bad = envFile(withValue(withValue(exampleEnv(), 'environment.name', 'bad'), 'backup.retention_days', 0));
    const run = await cli(['render', '--env', 'example', '--env', bad, '--out', out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('backup.retention_days: must be at least 1');
    expect(existsSync(out)).toBe(false);
  });

  it('writes the secrets file 0600 and keeps the password out of everything else', async () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'tb-out-')), 'project');
    const run = await cli(['render', '--env', envFile(deployerEnv()), '--out', out]);
    expect(run.code).toBe(0);
    expect(statSync(path.join(out, 'group_vars/env_tracker_demo/secrets.yml')).mode & 0o777).toBe(0o600);
    const { stdout } = await execa('grep', ['-rl', 'secure_password', out], { reject: false });
    expect(stdout.trim().split('\n')).toEqual([path.join(out, 'group_vars/env_tracker_demo/secrets.yml')]);
    expect(run.stdout).not.toContain('secure_password');
  });

  it('keeps a password from {"file"} or {"env"} out of validate, render\'s output and every file but the 0600 secrets file', async () => {
    const secret = 'referenced-secret-3f9c';
    const dir = mkdtempSync(path.join(tmpdir(), 'tb-ref-'));
    writeFileSync(path.join(dir, 'mysql-password'), `${secret}\n`, { mode: 0o600 });
    for (const ref of [{ file: 'mysql-password' }, { env: 'TB_TEST_DB_PASSWORD' }]) {
      const file = path.join(dir, 'env.json');
      writeFileSync(file, JSON.stringify(withValue(deployerEnv(), 'tracker.core.database.password', ref)));
      const env = { TB_TEST_DB_PASSWORD: secret };
      const validate = await runMain(['validate', '--env', file], { cwd: ROOT, env });
      expect(validate.code, validate.stderr).toBe(0);
      const out = path.join(dir, 'project');
      const render = await runMain(['render', '--env', file, '--out', out], { cwd: ROOT, env });
      expect(render.code, render.stderr).toBe(0);
      for (const run of [validate, render]) expect(run.stdout + run.stderr).not.toContain(secret);
      const secrets = path.join(out, 'group_vars/env_tracker_demo/secrets.yml');
      expect(statSync(secrets).mode & 0o777).toBe(0o600);
      expect(readFileSync(secrets, 'utf8')).toContain(`tracker_backup_mysql_password: !unsafe ${secret}\n`);
      const { stdout } = await execa('grep', ['-rl', secret, out], { reject: false });
      expect(stdout.trim().split('\n'), JSON.stringify(ref)).toEqual([secrets]);
    }
  });

  it('refuses a password file others may read without printing what it holds', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tb-ref-'));
    writeFileSync(path.join(dir, 'mysql-password'), 'leaky-secret-81d2\n', { mode: 0o644 });
    const file = path.join(dir, 'env.json');
    writeFileSync(file, JSON.stringify(withValue(deployerEnv(), 'tracker.core.database.password', { file: 'mysql-password' })));
    const run = await cli(['validate', '--env', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`tracker.core.database.password.file: "mysql-password" (${dir}/mysql-password) has mode 0644`);
    expect(run.stderr).toContain(`(example: chmod 600 ${dir}/mysql-password)`);
    expect(run.stdout + run.stderr).not.toContain('leaky-secret-81d2');
  });

  it.each(['provision', 'backup', 'backups', 'restore'])('%s refuses an ansible-vault password without a vault password for Ansible, before writing anything', async (command) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tb-vault-'));
    const file = path.join(dir, 'env.json');
    writeFileSync(file, JSON.stringify(withValue(deployerEnv(), 'tracker.core.database.password', vaultFixture('v11'))));
    const out = path.join(dir, 'project');
    const run = await runMain([command, '--env', file, '--out', out, '--', '-v'], { cwd: ROOT, env: {} });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${command}: tracker.core.database.password is an ansible-vault string; give Ansible its vault password after --`);
    expect(existsSync(out)).toBe(false);
  });

  it('renders a project that plain ansible-playbook accepts (--syntax-check)', async () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'tb-out-')), 'project');
    expect((await cli(['render', '--env', envFile(deployerEnv()), '--out', out])).code).toBe(0);
    for (const playbook of ['site.yml', 'release.yml', 'run.yml']) {
      const result = await execa('ansible-playbook', ['--syntax-check', playbook], { cwd: out, reject: false, env: { ANSIBLE_CONFIG: path.join(out, 'ansible.cfg') } });
      expect(result.exitCode, result.stderr).toBe(0);
    }
  });
});

describe('provision', () => {
  it('exits 1 before running Ansible when the environment is invalid', async () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'tb-out-')), 'project');
    const run = await cli(['provision', '--env', envFile(withValue(exampleEnv(), 'instance.host', '')), '--out', out]);
    expect(run.code).toBe(1);
    expect(run.stdout).not.toContain('Running:');
    expect(existsSync(out)).toBe(false);
  });
});

describe('issue 9: environment-file validation', () => {
  // eslint-disable-next-line no-control-regex -- the point is to find control characters
  const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

  function textFile(name: string, text: string): string {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'tb-cli-')), name);
    writeFileSync(file, text);
    return file;
  }

  it('refuses a 300-character environment name at validate and at render, naming the field', async () => {
    const file = envFile(withValue(exampleEnv(), 'environment.name', 'a'.repeat(300)));
    for (const command of ['validate', 'render']) {
      const run = await cli([command, '--env', file]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('environment.name: must be at most 63 characters');
      expect(run.stderr).not.toContain('ENAMETOOLONG');
    }
  });

  it('prints an unexpected error as one line and exits 1; the stack only with TRACKER_BACKUP_DEBUG=1', async () => {
    for (const debug of [false, true]) {
      const { code, stdout, stderr } = await runMain(['validate', '--env', 'example'], {
        env: debug ? { TRACKER_BACKUP_DEBUG: '1' } : {},
        now: () => {
          throw new Error('clock unavailable\u001b[2J\nsecond line of the message');
        },
      });
      expect(code).toBe(1);
      expect(stdout).toBe('');
      if (debug) {
        expect(stderr.split('\n')[0]).toBe('error: clock unavailable\\x1b[2J');
        expect(stderr).toMatch(/\n\s+at /);
      } else {
        expect(stderr).toBe('error: clock unavailable\\x1b[2J\n');
      }
    }
  });

  it('renders many long-named environments into a build directory whose name fits the file system', async () => {
    const files = ['a', 'b', 'c', 'd', 'e'].map((letter, i) =>
      envFile(withValue(withValue(exampleEnv(), 'environment.name', letter.repeat(63)), 'instance.host', `203.0.113.${i + 1}`)),
    );
    const run = await cli(['render', ...files.flatMap((f) => ['--env', f])]);
    try {
      expect(run.code, run.stderr).toBe(0);
      const dir = /^Wrote (build\/[^/]+)\/ansible\//.exec(run.stdout)?.[1];
      expect(dir).toBeDefined();
      expect(path.basename(dir ?? '').length).toBeLessThanOrEqual(255);
      expect(existsSync(path.join(ROOT, dir ?? '', 'ansible/inventory.yml'))).toBe(true);
    } finally {
      const dir = /^Wrote (build\/[^/]+)\//.exec(run.stdout)?.[1];
      if (dir) rmSync(path.join(ROOT, dir), { recursive: true, force: true });
    }
    expect(buildName(['a', 'b'])).toBe('a+b');
    expect(buildName(['x'.repeat(63), ...'abcd'.split('').map((c) => c.repeat(63))])).not.toBe(buildName(['x'.repeat(63), ...'abce'.split('').map((c) => c.repeat(63))]));
  });

  it('accepts a file saved with a UTF-8 byte-order mark', async () => {
    const run = await cli(['validate', '--env', textFile('bom.json', `\uFEFF${JSON.stringify(exampleEnv(), null, 2)}`)]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('bom.json is valid.');
  });

  it('never echoes control characters from the file or its name to the terminal', async () => {
    const badJson = await cli(['validate', '--env', textFile('e\u001b]0;x\u0007.json', '{"backup": \u001b[31m1}')]);
    expect(badJson.code).toBe(1);
    expect(badJson.stderr).not.toMatch(RAW_CONTROL);
    expect(badJson.stderr).toContain('\\x1b]0;x\\x07.json: 1 problem');
    const badKey = await cli(['validate', '--env', envFile(withValue(exampleEnv(), 'backup.\u001b[2J\u202eyek', true))]);
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).not.toMatch(RAW_CONTROL);
    expect(badKey.stderr).toContain('backup.\\x1b[2J\\u{202e}yek: unknown key');
    const valid = await cli(['validate', '--env', textFile('ok\u001b[2J.json', JSON.stringify(exampleEnv()))]);
    expect(valid.code).toBe(0);
    expect(valid.stdout).not.toMatch(RAW_CONTROL);
    expect(valid.stdout).toContain('ok\\x1b[2J.json is valid.');
  });

  it('refuses a duplicated key with its path', async () => {
    const text = JSON.stringify(exampleEnv()).replace('"backup":{', '"backup":{"schedule":"0 4 * * *",');
    const run = await cli(['validate', '--env', textFile('dup.json', text)]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('backup.schedule: duplicate key');
  });

  it('refuses two --env files deploying to the same host and port: one deployment per host', async () => {
    const second = envFile(withValue(withValue(exampleEnv(), 'environment.name', 'second'), 'deploy_dir', '/srv/other'));
    const run = await cli(['validate', '--env', 'example', '--env', second]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Ansible hosts "my-deployment" and "second" are both 203.0.113.10 port 22; one deployment per host is supported');
    expect(run.stderr).toContain('/etc/cron.d/tracker-backup');
  });
});
