// The off-site step (backup.sh offsite) in the real backup image (files/lib/Dockerfile:
// Debian's restic 0.14) against a real restic REST server (Debian 13's
// restic-rest-server) on a Docker network of the test's own, and its faults: wrong
// repository password, server unreachable, server disk full, repository locked by another
// client. In each case the local backup stays as it was (files and manifest) and the step
// answers with the result the run records in status.json.
//
// Then the whole path on a real sandbox target: provision with backup.offsite, the run
// phase's backup goes off-site, status.json says so, and no secret is on the target
// outside etc/offsite/.
//
// Real: restic, rest-server, Docker networking, tmpfs, sqlite3, sshd, Ansible.
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';
import { cli, envVariant, onTarget, sandboxDown, sandboxUp, type Sandbox } from './sandbox.js';

const TAG = `${process.pid}`;
const NETWORK = `tbsandbox-offsite-${TAG}`;
const REST = `tbsandbox-offsite-rest-${TAG}`;
const FULL = `tbsandbox-offsite-full-${TAG}`;
const IMAGE = `tracker-backup-offsite-test:${TAG}`;
const REST_IMAGE = 'tracker-backup-sandbox/offsite-rest';
const DATABASE = 'storage/tracker/lib/database/tracker.db';

let work: string;
let sandbox: Sandbox | undefined;

async function docker(...args: string[]) {
  return execa('docker', args, { reject: false });
}

/** A deploy directory with a store as the role leaves it, off-site to `repository`. */
function deployment(name: string, repository: string, password = 'correct horse'): string {
  const dir = path.join(work, name);
  const store = path.join(dir, 'storage/backup');
  for (const sub of ['etc/offsite/env', 'sqlite', 'mysql', 'config', 'manifests']) mkdirSync(path.join(store, sub), { recursive: true });
  mkdirSync(path.join(dir, 'storage/tracker/lib/database'), { recursive: true });
  mkdirSync(path.join(dir, 'storage/tracker/etc'), { recursive: true });
  writeFileSync(path.join(dir, 'storage/tracker/etc/tracker.toml'), '[core]\n');
  writeFileSync(
    path.join(store, 'etc/backup.conf'),
    `DATABASE_DRIVER=sqlite3\nSQLITE_PATH=${DATABASE}\nRETENTION_DAYS=7\nCOMPRESSION=gzip\nOFFSITE_KEEP_DAILY=7\nOFFSITE_KEEP_WEEKLY=4\n` +
      'OFFSITE_KEEP_MONTHLY=6\nOFFSITE_CHECK_EVERY_DAYS=7\nOFFSITE_CHECK_SUBSET=5%\nOFFSITE_HOST=tracker-test\n',
  );
  writeFileSync(path.join(store, 'etc/backup-paths.txt'), 'storage/tracker/etc/tracker.toml\n');
  writeFileSync(path.join(store, 'etc/offsite/repository'), repository, { mode: 0o600 });
  writeFileSync(path.join(store, 'etc/offsite/password'), `${password}\n`, { mode: 0o600 });
  return dir;
}

async function sqlite(dir: string, sql: string): Promise<void> {
  await execa('sqlite3', [path.join(dir, DATABASE), sql]);
}

async function step(dir: string, stamp: string, ...command: string[]) {
  return docker('run', '--rm', '--network', NETWORK, '-e', `BACKUP_STAMP=${stamp}`, '-v', `${dir}/storage/backup:/backups`, '-v', `${dir}:/data:ro`, IMAGE, ...command);
}

/** One local backup (as run.sh has the container take it) and its off-site step; the step's answer. */
async function backup(dir: string, stamp: string): Promise<{ result: Record<string, string>; log: string }> {
  const local = await step(dir, stamp, 'all');
  expect(local.exitCode, local.stdout + local.stderr).toBe(0);
  const offsite = await step(dir, stamp, 'offsite', stamp);
  const file = path.join(dir, 'storage/backup/.offsite-result');
  const result = Object.fromEntries(
    readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  rmSync(file);
  return { result, log: offsite.stdout + offsite.stderr };
}

/** The local backup of `stamp` is whole: its manifest lists both files and they match. */
async function localIntact(dir: string, stamp: string): Promise<void> {
  const store = path.join(dir, 'storage/backup');
  const check = await execa('sha256sum', ['-c', `manifests/manifest_${stamp}.sha256`], { cwd: store, reject: false });
  expect(check.exitCode, check.stdout + check.stderr).toBe(0);
  expect(check.stdout).toContain(`sqlite/sqlite_${stamp}.db.gz: OK`);
  expect(check.stdout).toContain(`config/config_${stamp}.tar.gz: OK`);
  expect(existsSync(path.join(store, '.offsite-upload'))).toBe(false);
}

async function restServer(name: string, ...options: string[]): Promise<void> {
  const up = await docker('run', '-d', '--name', name, '--network', NETWORK, ...options, REST_IMAGE);
  expect(up.exitCode, up.stderr).toBe(0);
}

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'tb-offsite-'));
  // The role installs the scripts executable; the checkout's modes are not that.
  const context = path.join(work, 'image');
  cpSync(path.join(ROOT, 'roles/tracker_backup/files/lib'), context, { recursive: true });
  for (const file of readdirSync(context)) if (file.endsWith('.sh')) chmodSync(path.join(context, file), 0o755);
  const images: [string, string][] = [
    [IMAGE, context],
    [REST_IMAGE, path.join(ROOT, 'sandbox/offsite')],
  ];
  for (const [tag, dir] of images) {
    const build = await docker('build', '-q', '-t', tag, dir);
    expect(build.exitCode, build.stderr).toBe(0);
  }
  expect((await docker('network', 'create', NETWORK)).exitCode).toBe(0);
  await restServer(REST);
  // A server whose disk holds 2 MiB: enough for a repository's config and keys, not for a backup.
  await restServer(FULL, '--tmpfs', '/data:size=2m');
});

afterAll(async () => {
  // The server first: attached to the stack's network, it would keep sandbox down from removing it.
  await docker('rm', '-f', REST, FULL);
  await sandboxDown(sandbox);
  await docker('network', 'rm', NETWORK);
  await docker('rmi', IMAGE);
  // Root-owned files written by the containers.
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('backup.sh offsite against a restic REST server', () => {
  it('uploads; day 2 adds only the chunks around a clustered change, a scattered change adds most of the file; a wrong password neither uploads nor makes a new repository', async () => {
    const dir = deployment('daily', `rest:http://${REST}:8000/daily`);
    // restic draws a random chunker polynomial for each new repository, so the same file
    // is cut at different places in each: with chunks of 512 KiB to 8 MiB, the chunks
    // holding a 10 MB file's changes added 0.5 to 3.2 MB from run to run. This repository
    // takes the polynomial of test/fixtures/restic-chunker (config and key of an empty
    // repository, password "correct horse"), and the rows are a function of their number,
    // so every run cuts the same bytes at the same places and adds the same amount.
    const fixture = path.join(work, 'restic-chunker');
    cpSync(path.join(ROOT, 'test/fixtures/restic-chunker'), fixture, { recursive: true });
    const init = await docker(
      'run', '--rm', '--network', NETWORK, '-v', `${fixture}:/fixture`, '-v', `${dir}/storage/backup/etc/offsite:/offsite:ro`, '--entrypoint', 'restic', IMAGE,
      '--no-cache', '--repo', `rest:http://${REST}:8000/daily`, '--password-file', '/offsite/password',
      'init', '--copy-chunker-params', '--from-repo', '/fixture', '--from-password-file', '/offsite/password',
    );
    expect(init.exitCode, init.stderr).toBe(0);
    await sqlite(dir, 'CREATE TABLE torrents (info_hash TEXT, completed INTEGER); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000) INSERT INTO torrents SELECT substr(hex(sha3(i)), 1, 40), i FROM n;');
    const size = readFileSync(path.join(dir, DATABASE)).length;
    const day1 = await backup(dir, '20261101_030000');
    expect(day1.log).not.toContain('initialising');
    expect(day1.result).toMatchObject({ result: 'success', check: 'success' });
    expect(day1.result.snapshot).toMatch(/^[0-9a-f]{8}$/);
    // bytes_added is restic's data_added: the new chunks before compression.
    expect(Number(day1.result.bytes_added)).toBeGreaterThanOrEqual(size);
    await localIntact(dir, '20261101_030000');

    // Clustered: the newest 1% of the rows (a tracker's new torrents are its active ones),
    // the last ~25 of the file's 2,500 pages, plus page 1, whose change counter every
    // write bumps. Two places: at most the chunks holding them are new.
    await sqlite(dir, 'UPDATE torrents SET completed = completed + 1 WHERE rowid > 198000;');
    const day2 = await backup(dir, '20261102_030000');
    // Checked on day 1; not due again for 7 days.
    expect(day2.result).toMatchObject({ result: 'success', check: 'skipped' });
    // Scattered: every 100th row, one in three pages, so every chunk of the file changes.
    await sqlite(dir, 'UPDATE torrents SET completed = completed + 1 WHERE rowid % 100 = 50;');
    const day3 = await backup(dir, '20261103_030000');
    expect(day3.result).toMatchObject({ result: 'success', check: 'skipped' });
    const [added2, added3] = [Number(day2.result.bytes_added), Number(day3.result.bytes_added)];
    console.log(`off-site dedup: database ${size} B; day 1 added ${day1.result.bytes_added} B, day 2 (newest 1% of rows) ${added2} B, day 3 (every 100th row) ${added3} B`);
    expect(added2).toBeLessThan(size / 4);
    expect(added3).toBeGreaterThan(size * 0.8);

    const keys = await docker('exec', REST, 'ls', '/data/daily/keys');
    writeFileSync(path.join(dir, 'storage/backup/etc/offsite/password'), 'not the password\n');
    const wrong = await backup(dir, '20261104_030000');
    expect(wrong.result.result).toBe('failed');
    expect(wrong.result.message).toContain('wrong password');
    expect(wrong.log).not.toContain('initialising');
    expect((await docker('exec', REST, 'ls', '/data/daily/keys')).stdout).toBe(keys.stdout);
    await localIntact(dir, '20261104_030000');
  });

  it('server unreachable: the step fails with restic\'s reason, the local backup stands', async () => {
    const dir = deployment('unreachable', `rest:http://${REST}-gone:8000/x`);
    await sqlite(dir, 'CREATE TABLE torrents (info_hash TEXT); INSERT INTO torrents VALUES (\'a\');');
    const { result } = await backup(dir, '20261104_030000');
    expect(result.result).toBe('failed');
    expect(result.message).toMatch(/^Off-site repository could not be opened: .+/);
    await localIntact(dir, '20261104_030000');
  });

  it('server disk full: the upload fails, the local backup stands', async () => {
    const dir = deployment('full', `rest:http://${FULL}:8000/full`);
    // 4 MiB of random rows: more than the server's 2 MiB tmpfs, and nothing to deduplicate.
    await sqlite(dir, 'CREATE TABLE torrents (info_hash BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1024) INSERT INTO torrents SELECT randomblob(4096) FROM n;');
    const { result } = await backup(dir, '20261105_030000');
    expect(result).toMatchObject({ result: 'failed' });
    expect(result.message).toMatch(/^Off-site upload failed: /);
    await localIntact(dir, '20261105_030000');
  });

  it('repository locked by another client: the upload is kept, forget --prune fails and says so', async () => {
    const dir = deployment('locked', `rest:http://${REST}:8000/locked`);
    await sqlite(dir, 'CREATE TABLE torrents (info_hash TEXT); INSERT INTO torrents VALUES (\'a\');');
    const first = await backup(dir, '20261106_030000');
    expect(first.log).toContain('INFO: Off-site repository not found; initialising it');
    expect(first.result.result).toBe('success');
    // Another client's backup, reading a stdin that never ends, holds its lock meanwhile.
    const holder = `tbsandbox-offsite-locker-${TAG}`;
    const hold = await docker(
      'run', '-d', '--name', holder, '--network', NETWORK, '-e', 'RESTIC_PASSWORD=correct horse', '--entrypoint', 'sh', IMAGE,
      '-c', `sleep 600 | restic --no-cache -r rest:http://${REST}:8000/locked backup --stdin --host other`,
    );
    expect(hold.exitCode, hold.stderr).toBe(0);
    try {
      // The lock is the repository's locks/ directory gaining a file.
      for (let i = 0; i < 60 && (await docker('exec', REST, 'ls', '/data/locked/locks')).stdout.trim() === ''; i += 1) await new Promise((r) => setTimeout(r, 500));
      const { result } = await backup(dir, '20261107_030000');
      expect(result.result).toBe('failed');
      expect(result.message).toMatch(/^Off-site forget\/prune failed: .*lock/);
      // The upload itself went through before the prune was refused.
      expect(result.snapshot).toMatch(/^[0-9a-f]{8}$/);
      expect(result.last_success).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      await localIntact(dir, '20261107_030000');
    } finally {
      await docker('rm', '-f', holder);
    }
  });
});

describe('off-site on a provisioned host', () => {
  it('provision with backup.offsite: the run phase\'s backup is uploaded, status.json records it, no secret outside etc/offsite/', async () => {
    sandbox = await sandboxUp('offsite');
    // The target drives the machine's Docker (sandbox/target/Dockerfile): the backup
    // container runs in the tracker stack's compose network, which the server joins.
    const connect = await docker('network', 'connect', `tbsandbox-${sandbox.name}_default`, REST);
    expect(connect.exitCode, connect.stderr).toBe(0);
    const secret = 'offsite pw {{ not templated }}';
    const envFile = envVariant(sandbox, 'offsite', (env) => {
      (env as unknown as { backup: Record<string, unknown> }).backup.offsite = { repository: `rest:http://${REST}:8000/host`, password: { env: 'TB_OFFSITE_PASSWORD' } };
    });
    process.env.TB_OFFSITE_PASSWORD = secret;
    const provision = await cli(['provision', '--env', envFile], sandbox);
    expect(provision.exitCode, provision.stdout + provision.stderr).toBe(0);
    expect(provision.stdout + provision.stderr).not.toContain('offsite pw');
    const status = JSON.parse((await onTarget(sandbox, 'cat storage/backup/status.json')).stdout) as { result: string; offsite: Record<string, unknown> };
    expect(status.result).toBe('success');
    expect(status.offsite, JSON.stringify(status.offsite)).toMatchObject({ result: 'success', check: { result: 'success' } });
    expect(status.offsite.snapshot).toMatch(/^[0-9a-f]{8}$/);
    expect((await docker('exec', REST, 'ls', '/data/host/snapshots')).stdout.trim().split('\n')).toHaveLength(1);
    const leaks = await onTarget(sandbox, `grep -rlF 'offsite pw' /var/log/tracker-backup.log storage/backup --exclude-dir=offsite --exclude-dir=sqlite --exclude-dir=config || true; stat -c '%a %U' storage/backup/etc/offsite storage/backup/etc/offsite/password`);
    expect(leaks.stdout.trim().split('\n')).toEqual(['700 root', '600 root']);
  });
});
