// The role and the generated project used the ways Ansible users do, without this tool's
// provision: the collection trackerbackup.tracker_backup from your own playbook
// (examples/collection), and the rendered project under ansible-runner (the engine of AWX
// and the Automation Platform), each against a real sandbox target.
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ROOT } from '../helpers.js';
import { controllerEnv } from './controller.js';
import { mysqlOf, onTarget, sandboxDown, sandboxUp, type Sandbox } from './sandbox.js';

const CRON = '/etc/cron.d/tracker-backup';

/** The guide's cron file for this sandbox, with the schedule the example and the sandbox both use. */
const cronFor = (sandbox: Sandbox) =>
  `# Backup Maintenance Schedule\n0 3 * * * root cd ${sandbox.deployDir} && /usr/local/bin/maintenance-backup.sh >> /var/log/tracker-backup.log 2>&1\n`;

async function cronFile(sandbox: Sandbox): Promise<string | undefined> {
  const read = await onTarget(sandbox, `if [ -e ${CRON} ]; then cat ${CRON}; else echo absent; fi`);
  return read.stdout === 'absent' ? undefined : `${read.stdout}\n`;
}

/** Every regular file under dir. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}

describe('the collection from your own playbook (examples/collection)', () => {
  let sandbox: Sandbox | undefined;
  let work = '';

  beforeAll(async () => {
    sandbox = await sandboxUp('collection');
    // The example as a user copies it, the collection installed next to the playbook
    // (a playbook-adjacent collections/ directory), and an inventory naming the target.
    work = mkdtempSync(path.join(tmpdir(), 'tb-collection-example-'));
    cpSync(path.join(ROOT, 'examples/collection'), work, { recursive: true });
    await execa(path.join(ROOT, 'scripts/collection.sh'), ['install', path.join(work, 'collections')], { stderr: 'inherit' });
    const ssh = sandbox.env.ssh_credentials;
    const host = {
      ansible_host: sandbox.env.instance.host,
      ansible_port: ssh.port,
      ansible_user: ssh.username,
      ansible_ssh_private_key_file: ssh.private_key_path,
      // The sandbox's deploy directory instead of the example's /opt/torrust.
      tracker_backup_deploy_dir: sandbox.deployDir,
    };
    // YAML, one key a line, as scripts/controller.sh (the 2.19 cell) reads the key's path from it.
    writeFileSync(path.join(work, 'inventory.yml'), stringify({ all: { children: { tracker_servers: { hosts: { [sandbox.name]: host } } } } }));
  });

  afterAll(async () => {
    await sandboxDown(sandbox);
  });

  async function playbook(...flags: string[]) {
    const run = await execa('ansible-playbook', ['-i', 'inventory.yml', 'site.yml', ...flags], {
      cwd: work,
      env: { ANSIBLE_HOST_KEY_CHECKING: 'False', ANSIBLE_NOCOLOR: '1', ...controllerEnv() },
      reject: false,
      all: true,
    });
    process.stdout.write(run.all ?? '');
    return run;
  }

  it('--check on the fresh host succeeds and changes nothing', async () => {
    const target = sandbox as Sandbox;
    const check = await playbook('--check', '--diff');
    expect(check.exitCode).toBe(0);
    expect(check.all).toMatch(/failed=0/);
    expect(await cronFile(target)).toBeUndefined();
  });

  it('a real run installs the cron entry through trackerbackup.tracker_backup.tracker_backup', async () => {
    const target = sandbox as Sandbox;
    const run = await playbook();
    expect(run.exitCode).toBe(0);
    expect(run.all).toContain('trackerbackup.tracker_backup.tracker_backup : ');
    expect(await cronFile(target)).toBe(cronFor(target));
  });
});

// ansible-runner is Debian 12's python3-ansible-runner on this machine, driving this
// machine's ansible-playbook; the 2.19 controller container has no runner.
const runnerController = process.env.TRACKER_BACKUP_CONTROLLER ?? 'host';
if (runnerController !== 'host' && runnerController !== '') {
  console.log(`SKIPPED: ansible-runner tests (TRACKER_BACKUP_CONTROLLER=${runnerController}: runner runs this machine's ansible-core only)`);
}

describe.skipIf(runnerController !== 'host' && runnerController !== '')('the rendered project under ansible-runner', () => {
  let sandbox: Sandbox | undefined;
  let runnerDir = '';

  beforeAll(async () => {
    // MySQL, so there is a password that runner's job events could capture.
    sandbox = await sandboxUp('runner', ['--driver', 'mysql']);
    runnerDir = mkdtempSync(path.join(tmpdir(), 'tb-runner-'));
    // The runner directory's project/ is the rendered project itself.
    await execa('npx', ['tsx', 'src/cli/bin.ts', 'render', '--env', sandbox.envFile, '--out', path.join(runnerDir, 'project')], { cwd: ROOT, stderr: 'inherit' });
  });

  afterAll(async () => {
    await sandboxDown(sandbox);
  });

  it('ansible-runner run DIR -p site.yml provisions the target', async () => {
    const target = sandbox as Sandbox;
    expect(await cronFile(target)).toBeUndefined();
    const run = await execa('ansible-runner', ['run', runnerDir, '-p', 'site.yml'], { reject: false, all: true });
    process.stdout.write(run.all ?? '');
    expect(run.exitCode).toBe(0);
    const [artifact] = readdirSync(path.join(runnerDir, 'artifacts'));
    expect(readFileSync(path.join(runnerDir, 'artifacts', artifact as string, 'status'), 'utf8')).toBe('successful');
    expect(await cronFile(target)).toBe(cronFor(target));
  });

  it("leaves the MySQL password and the SSH key out of runner's artifacts; secrets.yml stays 0600", () => {
    const target = sandbox as Sandbox;
    const { password } = mysqlOf(target.env);
    if (typeof password !== 'string') throw new Error('the MySQL sandbox writes its password in plain text');
    const key = readFileSync(target.env.ssh_credentials.private_key_path, 'utf8');
    const secrets = path.join(runnerDir, 'project/group_vars', `env_${target.env.environment.name.replaceAll('-', '_')}`, 'secrets.yml');
    expect(statSync(secrets).mode & 0o777).toBe(0o600);
    // The task that writes the password file ran and was recorded (censored) in the job events.
    const events = filesUnder(path.join(runnerDir, 'artifacts')).filter((file) => file.includes('/job_events/'));
    const passwordTask = events.map((file) => readFileSync(file, 'utf8')).filter((text) => text.includes('MySQL password is kept in its own root-only file'));
    expect(passwordTask.some((text) => text.includes('"censored"'))).toBe(true);
    const outsideProject = filesUnder(runnerDir).filter((file) => !file.startsWith(path.join(runnerDir, 'project') + path.sep));
    expect(outsideProject.length).toBeGreaterThan(events.length);
    const leaks = outsideProject.filter((file) => {
      const text = readFileSync(file, 'utf8');
      return text.includes(password) || text.includes(JSON.stringify(password).slice(1, -1)) || text.includes(key.trim());
    });
    expect(leaks).toEqual([]);
  });
});
