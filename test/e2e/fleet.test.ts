// Many hosts in one run, on real targets: an environment with instances (one of them
// unreachable) plus a second --env, provisioned in parallel from one inventory; and the
// zstd compression through backup, listing and restore. Stand-in: the tracker service only.
// The second target is pinned with `sandbox.sh up --cpus` (to every CPU, so nothing slows).
import { availableParallelism } from 'node:os';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvInput } from '../helpers.js';
import { backupsJson, cli, envVariant, onTarget, sandboxDown, sandboxUp, type Sandbox } from './sandbox.js';

const ALL_CPUS = `0-${availableParallelism() - 1}`;

let a: Sandbox | undefined;
let b: Sandbox | undefined;
/** instances: a (zstd) and a host nobody listens on. */
let fleetFile = '';
/** The same environment without the dead host. */
let fleetUpFile = '';

function sandboxes(): [Sandbox, Sandbox] {
  if (!a || !b) throw new Error('sandboxes were not created');
  return [a, b];
}

beforeAll(async () => {
  a = await sandboxUp('fleet-a');
  b = await sandboxUp('fleet-b', ['--cpus', ALL_CPUS]);
  const withInstances = (dead: boolean) => (env: EnvInput) => {
    const target = sandboxes()[0];
    env.environment.name = 'fleet';
    delete env.instance;
    const instances: NonNullable<EnvInput['instances']> = [{ name: 'a', host: target.env.instance.host, port: target.env.ssh_credentials.port, deploy_dir: target.deployDir }];
    // Port 1 on loopback: connection refused at once, like a host that is down.
    if (dead) instances.push({ name: 'down', host: '127.0.0.1', port: 1 });
    env.instances = instances;
    env.backup = { ...env.backup, compression: 'zstd' };
  };
  fleetFile = envVariant(a, 'fleet', withInstances(true));
  fleetUpFile = envVariant(a, 'fleet-up', withInstances(false));
}, 300_000);

afterAll(async () => {
  await sandboxDown(a);
  await sandboxDown(b);
});

describe('provisioning several hosts in one run', () => {
  it('provisions every reachable host, reports the unreachable one, and exits 1', async () => {
    const [, second] = sandboxes();
    const run = await cli(['provision', '--env', fleetFile, '--env', second.envFile], second);
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toMatch(/^ {2}fleet-a: ok {2}ok=\d+ changed=\d+ failed=0 unreachable=0/m);
    expect(run.stdout).toMatch(new RegExp(`^ {2}${second.env.environment.name}: ok `, 'm'));
    expect(run.stdout).toMatch(/^ {2}fleet-down: FAILED .*unreachable=1/m);
    expect(run.stdout).toContain('hosts: 3, changed:');
    expect(run.stdout).toContain('failed: 1 (fleet-down)');
  });

  it('each host got its own environment: zstd backups on a, the guide\'s gzip names on b', async () => {
    const [first, second] = sandboxes();
    const zst = await onTarget(first, 'ls storage/backup/sqlite storage/backup/config');
    expect(zst.stdout).toMatch(/sqlite_\d{8}_\d{6}\.db\.zst/);
    expect(zst.stdout).toMatch(/config_\d{8}_\d{6}\.tar\.zst/);
    expect(zst.stdout).not.toContain('.gz');
    const gz = await onTarget(second, 'ls storage/backup/sqlite');
    expect(gz.stdout).toMatch(/sqlite_\d{8}_\d{6}\.db\.gz/);
    expect(gz.stdout).not.toContain('.zst');
  });
});

describe('sandbox.sh up --cpus (bench/hosts.sh)', () => {
  it('pins the target container and its compose stack, and only the sandbox that asked', async () => {
    const [first, second] = sandboxes();
    const cpuset = async (filter: string) => {
      const ids = (await execa('docker', ['ps', '-q', '--filter', filter])).stdout.split('\n').filter(Boolean);
      expect(ids.length).toBeGreaterThan(0);
      return (await execa('docker', ['inspect', '-f', '{{.HostConfig.CpusetCpus}}', ...ids])).stdout.split('\n');
    };
    for (const filter of [`name=^tbsandbox-${second.name}$`, `label=com.docker.compose.project=tbsandbox-${second.name}`]) {
      expect(new Set(await cpuset(filter))).toEqual(new Set([ALL_CPUS]));
    }
    expect(await cpuset(`name=^tbsandbox-${first.name}$`)).toEqual(['']);
  });
});

describe('zstd backups are verified, listed and restored like gzip ones', () => {
  it('lists them as verified', async () => {
    const [first] = sandboxes();
    const run = await cli(['backups', '--env', fleetUpFile, '--json'], first);
    expect(run.exitCode).toBe(0);
    const { backups } = backupsJson(run.stdout)['fleet-a'] ?? { backups: [] };
    expect(backups.map((entry) => entry.path).sort()).toEqual([expect.stringMatching(/^config\/.*\.tar\.zst$/), expect.stringMatching(/^sqlite\/.*\.db\.zst$/)]);
    expect(backups.every((entry) => entry.checksum === 'verified')).toBe(true);
  });

  it('restores the database from a .zst backup', async () => {
    const [first] = sandboxes();
    const db = `${first.deployDir}/storage/tracker/lib/database/tracker.db`;
    const before = Number((await onTarget(first, `sqlite3 ${db} 'SELECT count(*) FROM torrents'`)).stdout.trim());
    expect((await cli(['backup', '--env', fleetUpFile], first)).exitCode).toBe(0);
    await onTarget(first, `docker-compose stop tracker >/dev/null 2>&1; sqlite3 ${db} "INSERT INTO torrents (info_hash) VALUES ('marker-after-backup')"; docker-compose start tracker >/dev/null 2>&1`);
    const run = await cli(['restore', '--env', fleetUpFile, '--only', 'database', '--yes'], first);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/Restored SQLite database .* from sqlite_\d{8}_\d{6}\.db\.zst/);
    const marker = await onTarget(first, `sqlite3 ${db} "SELECT count(*) FROM torrents WHERE info_hash = 'marker-after-backup'"`);
    expect(marker.stdout.trim()).toBe('0');
    // Everything the tracker had written before the backup is back.
    expect(Number((await onTarget(first, `sqlite3 ${db} 'SELECT count(*) FROM torrents'`)).stdout.trim())).toBeGreaterThanOrEqual(before);
  });
});
