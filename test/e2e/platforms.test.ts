// The platforms beyond this machine's own: a Debian 13 sandbox target (docker-cli and
// the compose v2 plugin, as on the deployer's Ubuntu hosts) and ansible-core 2.19 as
// the controller (scripts/controller.sh). Both are created here whatever
// TRACKER_BACKUP_SANDBOX_OS and TRACKER_BACKUP_CONTROLLER say, so every run of the
// suite proves the rest of it can be pointed at them.
//
// Real: sshd, the Docker daemon, compose v2 inside the target, ansible-core 2.19 in a
// container on the host network. Stand-in: the tracker service (sandbox/tracker).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';
import { controllerEnv } from './controller.js';
import { cli, onTarget, sandboxDown, sandboxUp, type Sandbox } from './sandbox.js';

let sandbox: Sandbox | undefined;

function target(): Sandbox {
  if (!sandbox) throw new Error('sandbox was not created');
  return sandbox;
}

const sandboxScript = path.join(ROOT, 'scripts/sandbox.sh');

beforeAll(async () => {
  sandbox = await sandboxUp('trixie', ['--os', 'trixie']);
});

afterAll(async () => {
  await sandboxDown(sandbox);
});

describe('a Debian 13 sandbox target (--os trixie)', () => {
  it('runs Debian 13 with docker-cli and the compose v2 plugin against the host daemon', async () => {
    const probe = await onTarget(
      target(),
      '. /etc/os-release; echo "$VERSION_CODENAME"; docker compose version --short; docker-compose version --short; docker version --format "{{.Server.APIVersion}}"',
    );
    expect(probe.exitCode).toBe(0);
    const [codename, plugin, standalone, api] = probe.stdout.trim().split('\n');
    expect(codename).toBe('trixie');
    expect(plugin).toMatch(/^2\.\d+\./);
    // /usr/bin/docker-compose is the same v2 binary, not a v1 left beside it.
    expect(standalone).toBe(plugin);
    expect(api).toMatch(/^1\.\d+$/);
  });

  it('started the tracker stack with compose v2 (hyphenated container names)', async () => {
    const names = await onTarget(target(), 'docker compose ps --format "{{.Name}}" tracker');
    expect(names.exitCode).toBe(0);
    expect(names.stdout.trim()).toBe(`tbsandbox-${target().name}-tracker-1`);
  });

  it('status reports the OS, and the sandbox keeps it', async () => {
    const status = await execa(sandboxScript, ['status', target().name], { reject: false });
    expect(status.exitCode).toBe(0);
    expect(status.stdout).toMatch(/^os: +trixie$/m);
    const other = await execa(sandboxScript, ['up', target().name, '--os', 'bookworm'], { reject: false });
    expect(other.exitCode).not.toBe(0);
    expect(other.stderr).toContain(`sandbox '${target().name}' uses os trixie, not bookworm`);
  });

  it('refuses an OS it cannot build', async () => {
    const run = await execa(sandboxScript, ['up', 'never-created', '--os', 'buster'], { reject: false });
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toContain("unsupported os 'buster'");
  });
});

describe('the ansible-core 2.19 controller (TRACKER_BACKUP_CONTROLLER=2.19)', () => {
  it('is what ansible-playbook resolves to', async () => {
    const version = await execa('ansible-playbook', ['--version'], { env: controllerEnv('2.19') });
    expect(version.stdout).toMatch(/^ansible-playbook \[core 2\.19\.\d+\]/);
  });

  it('sees the project, the stats directory and the inventory keys, and only the variables Ansible needs', async () => {
    const project = mkdtempSync(path.join(tmpdir(), 'tb-controller-'));
    const key = target().env.ssh_credentials.private_key_path;
    writeFileSync(path.join(project, 'inventory.yml'), `all:\n  hosts:\n    h:\n      ansible_ssh_private_key_file: ${key}\n`);
    const stats = path.join(project, 'stats', 's.json');
    mkdirSync(path.dirname(stats));
    const run = await execa(
      path.join(ROOT, 'scripts/controller.sh'),
      // No path in the arguments: the key and the stats directory must come from the inventory and the variable.
      [
        'run', 'sh', '-c',
        'pwd; test -r "$(sed -n "s/.*_key_file: //p" inventory.yml)" && echo key; test -d "${TRACKER_BACKUP_STATS_FILE%/*}" && echo stats; env | grep -E "^(ANSIBLE|TRACKER)_" | cut -d= -f1 | sort',
      ],
      {
        cwd: project,
        env: { ANSIBLE_NOCOLOR: '1', TRACKER_BACKUP_STATS_FILE: stats, TRACKER_BACKUP_SANDBOX_MYSQL_PASSWORD: 'not-for-ansible' },
      },
    );
    expect(run.stdout.split('\n')).toEqual([project, 'key', 'stats', 'ANSIBLE_NOCOLOR', 'TRACKER_BACKUP_STATS_FILE']);
  });

  it('rejects a controller it does not know', () => {
    expect(() => controllerEnv('2.99')).toThrow('TRACKER_BACKUP_CONTROLLER=2.99');
  });

  it('provisions the Debian 13 target', async () => {
    const saved = process.env.TRACKER_BACKUP_CONTROLLER;
    process.env.TRACKER_BACKUP_CONTROLLER = '2.19';
    try {
      const run = await cli(['provision', '--env', target().envFile], target());
      expect(run.exitCode).toBe(0);
      expect(run.stdout).toMatch(/backup created: .*\/storage\/backup\/sqlite\/sqlite_\d{8}_\d{6}\.db\.gz/);
      expect(run.stdout).toMatch(/hosts: 1, changed: [1-9]\d*, failed: 0/);
      expect(`${run.stdout}\n${run.stderr}`).not.toContain('[DEPRECATION WARNING]');
      expect(`${run.stdout}\n${run.stderr}`).not.toContain('[WARNING]');
      const log = await onTarget(target(), 'cat /var/log/tracker-backup.log');
      expect(log.stdout).toMatch(/INFO: Using compose v2 \(docker compose 2\.\d+/);
    } finally {
      if (saved === undefined) delete process.env.TRACKER_BACKUP_CONTROLLER;
      else process.env.TRACKER_BACKUP_CONTROLLER = saved;
    }
  });
});
