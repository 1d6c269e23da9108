// The off-site step (backup.sh offsite) in the real backup image (files/lib/Dockerfile:
// Debian's restic 0.14) against a real restic REST server (Debian 13's
// restic-rest-server) on a Docker network of the test's own: the first upload, day 2's
// deduplication, a wrong password that makes no new repository.
//
// Then the whole path on a real sandbox target, runs as cron runs them: provision with
// backup.offsite, the run phase's backup goes off-site, status.json says so, and no secret
// is on the target outside etc/offsite/. The four faults (server unreachable, wrong
// repository password, server disk full, repository locked by another client): each run
// exits 0 with its local backup whole (files and manifest), status.json's offsite says what
// happened, and the alert receiver gets /fail with "Local backup succeeded; the off-site
// copy FAILED: ...". Last an SFTP server (Debian 13's OpenSSH, key-only login): the key
// from a {"file"} secret, the server's real host key in known_hosts; a wrong host key fails
// the step.
//
// Real: restic, rest-server, sshd (twice: the target's and the SFTP server's), Docker
// networking, tmpfs, sqlite3, Ansible, python3 (notify.py), an HTTP receiver.
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';
import { pingReceiver, pings, type Ping } from './receiver.js';
import { cli, envVariant, onTarget, runMaintenance, sandboxDown, sandboxUp, waitFor, type Sandbox } from './sandbox.js';

const TAG = `${process.pid}`;
const NETWORK = `tbsandbox-offsite-${TAG}`;
const REST = `tbsandbox-offsite-rest-${TAG}`;
const FULL = `tbsandbox-offsite-full-${TAG}`;
const IMAGE = `tracker-backup-offsite-test:${TAG}`;
const REST_IMAGE = 'tracker-backup-sandbox/offsite-rest';
const SFTP = `tbsandbox-offsite-sftp-${TAG}`;
const SFTP_IMAGE = 'tracker-backup-sandbox/offsite-sftp';
const RECEIVER = `tbsandbox-offsite-receiver-${TAG}`;
const PING_KEY = `offsite-${TAG}`;
const TEXTFILE_DIR = '/var/lib/prometheus/node-exporter';
const PASSWORD = 'offsite pw {{ not templated }}';
const DATABASE = 'storage/tracker/lib/database/tracker.db';

let work: string;
let sandbox: Sandbox | undefined;
let pingUrl = '';

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
    [SFTP_IMAGE, path.join(ROOT, 'sandbox/offsite/sftp')],
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
  // The servers first: attached to the stack's network, it would keep sandbox down from removing it.
  await docker('rm', '-f', REST, FULL, SFTP, RECEIVER);
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
});

/** The sandbox target the describes below share, made by the first that runs. */
async function host(): Promise<Sandbox> {
  if (sandbox) return sandbox;
  sandbox = await sandboxUp('offsite');
  // The target drives the machine's Docker (sandbox/target/Dockerfile): the backup
  // container runs in the tracker stack's compose network, which the servers join.
  for (const server of [REST, FULL]) {
    const connect = await docker('network', 'connect', stackNetwork(sandbox), server);
    expect(connect.exitCode, connect.stderr).toBe(0);
  }
  pingUrl = `${await pingReceiver(RECEIVER, `tbsandbox-${sandbox.name}`)}/ping/${PING_KEY}`;
  // node_exporter's package creates it; the role never does.
  await onTarget(sandbox, `mkdir -p ${TEXTFILE_DIR}`);
  return sandbox;
}

function stackNetwork(target: Sandbox): string {
  return `tbsandbox-${target.name}_default`;
}

interface OffsiteStatus {
  result: string;
  exit_code: number;
  stamp: string;
  files: { path: string }[];
  offsite: { result: string; message: string; snapshot: string | null; last_success: string | null; check: { result: string } };
}

async function status(target: Sandbox): Promise<OffsiteStatus> {
  return JSON.parse((await onTarget(target, 'cat storage/backup/status.json')).stdout) as OffsiteStatus;
}

/** What the operator sees of one run: status.json, the run's WARN line, the ping, the metric. */
interface FaultSeen {
  status: OffsiteStatus;
  warn: string;
  ping: Ping;
  metric: string;
}

/**
 * One run as cron runs it, with etc/offsite/FILE holding `content` meanwhile (none: as it
 * is). The run exits 0, its local backup is whole (both files, the manifest verifies), its
 * off-site copy failed, and the receiver got /start then /fail saying so first.
 */
async function faultyRun(target: Sandbox, file?: string, content?: string): Promise<FaultSeen> {
  const before = (await pings(RECEIVER)).length;
  const offsite = 'storage/backup/etc/offsite';
  if (file) await onTarget(target, `cp -p ${offsite}/${file} ${offsite}/${file}.keep && printf '%s\\n' '${content ?? ''}' > ${offsite}/${file}`);
  let code: number;
  try {
    await onTarget(target, ': > /var/log/tracker-backup.log');
    code = await runMaintenance(target);
  } finally {
    if (file) await onTarget(target, `mv -f ${offsite}/${file}.keep ${offsite}/${file}`);
  }
  expect(code).toBe(0);
  const seen = await status(target);
  expect(seen).toMatchObject({ result: 'success', exit_code: 0, offsite: { result: 'failed' } });
  expect(seen.files.map((f) => f.path.split('/')[0]).sort()).toEqual(['config', 'sqlite']);
  const verify = await onTarget(target, `cd storage/backup && sha256sum -c manifests/manifest_${seen.stamp}.sha256`);
  expect(verify.exitCode, verify.stdout + verify.stderr).toBe(0);
  const got = (await pings(RECEIVER)).slice(before);
  expect(got.map((p) => p.path)).toEqual([`/ping/${PING_KEY}/start`, `/ping/${PING_KEY}/fail`]);
  const ping = got[1] as Ping;
  expect(ping.body.startsWith(`Local backup succeeded; the off-site copy FAILED: ${seen.offsite.message}\n`), ping.body).toBe(true);
  const log = (await onTarget(target, 'cat /var/log/tracker-backup.log')).stdout;
  const warn = log.split('\n').find((line) => line.includes('WARN: Off-site copy failed: ')) ?? '';
  expect(warn).toContain(`WARN: Off-site copy failed: ${seen.offsite.message} (the local backup is kept)`);
  const prom = (await onTarget(target, `cat ${TEXTFILE_DIR}/tracker_backup.prom`)).stdout;
  const metric = prom.split('\n').find((line) => line.startsWith('tracker_backup_offsite_last_run_success ')) ?? '';
  expect(metric).toBe('tracker_backup_offsite_last_run_success 0');
  process.stdout.write(`off-site fault e2e:\n  log: ${warn}\n  status.json offsite: ${JSON.stringify(seen.offsite)}\n  ping: POST ${ping.path} ${JSON.stringify(ping.body.split('\n')[0])}\n  metric: ${metric}\n`);
  return { status: seen, warn, ping, metric };
}

describe('off-site on a provisioned host', () => {
  it('provision with backup.offsite: the run phase\'s backup is uploaded, status.json records it, no secret outside etc/offsite/', async () => {
    const target = await host();
    const envFile = envVariant(target, 'offsite', (env) => {
      env.backup.offsite = { repository: `rest:http://${REST}:8000/host`, password: { env: 'TB_OFFSITE_PASSWORD' } };
      env.backup.alerts = { ping_url: pingUrl };
    });
    process.env.TB_OFFSITE_PASSWORD = PASSWORD;
    const provision = await cli(['provision', '--env', envFile], target);
    expect(provision.exitCode, provision.stdout + provision.stderr).toBe(0);
    expect(provision.stdout + provision.stderr).not.toContain('offsite pw');
    const seen = await status(target);
    expect(seen.result).toBe('success');
    expect(seen.offsite, JSON.stringify(seen.offsite)).toMatchObject({ result: 'success', check: { result: 'success' } });
    expect(seen.offsite.snapshot).toMatch(/^[0-9a-f]{8}$/);
    expect((await docker('exec', REST, 'ls', '/data/host/snapshots')).stdout.trim().split('\n')).toHaveLength(1);
    // The first run on a new repository creates it (the dedup tests start from a prepared one).
    expect((await onTarget(target, 'cat /var/log/tracker-backup.log')).stdout).toContain('INFO: Off-site repository not found; initialising it');
    const leaks = await onTarget(target, `grep -rlF 'offsite pw' /var/log/tracker-backup.log storage/backup --exclude-dir=offsite --exclude-dir=sqlite --exclude-dir=config || true; stat -c '%a %U' storage/backup/etc/offsite storage/backup/etc/offsite/password`);
    expect(leaks.stdout.trim().split('\n')).toEqual(['700 root', '600 root']);
  });

  it('server unreachable: exit 0, local backup whole, status.json and the /fail ping give restic\'s reason', async () => {
    const seen = await faultyRun(await host(), 'repository', `rest:http://${REST}-gone:8000/host`);
    expect(seen.status.offsite.message).toMatch(/^Off-site repository could not be opened: Fatal: .+/);
  });

  it('wrong repository password: exit 0, local backup whole, no new repository, status.json and the /fail ping say so', async () => {
    const keys = (await docker('exec', REST, 'ls', '/data/host/keys')).stdout;
    const seen = await faultyRun(await host(), 'password', 'not the password');
    expect(seen.status.offsite.message).toBe('Off-site repository could not be opened: Fatal: wrong password or no key found');
    expect((await docker('exec', REST, 'ls', '/data/host/keys')).stdout).toBe(keys);
  });

  it('server disk full: exit 0, local backup whole, the upload failed, status.json and the /fail ping say so', async () => {
    // The server's tmpfs holds 2 MiB: a repository's config and keys, not the upload.
    // Random rows so nothing deduplicates; the stand-in tracker keeps writing meanwhile.
    const target = await host();
    await execa('sqlite3', ['-cmd', '.timeout 10000', path.join(target.deployDir, DATABASE), 'CREATE TABLE IF NOT EXISTS filler (b BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1024) INSERT INTO filler SELECT randomblob(4096) FROM n;']);
    try {
      const seen = await faultyRun(target, 'repository', `rest:http://${FULL}:8000/full`);
      expect(seen.status.offsite.message).toMatch(/^Off-site upload failed: .+/);
    } finally {
      await execa('sqlite3', ['-cmd', '.timeout 10000', path.join(target.deployDir, DATABASE), 'DROP TABLE filler; VACUUM;']);
    }
  });

  it('repository locked by another client: exit 0, the upload is kept, forget --prune failed, status.json and the /fail ping say so', async () => {
    const target = await host();
    const holder = `tbsandbox-offsite-locker-${TAG}`;
    // Another client's backup, reading a stdin that never ends, holds its lock meanwhile.
    const hold = await docker(
      'run', '-d', '--name', holder, '--network', NETWORK, '-e', `RESTIC_PASSWORD=${PASSWORD}`, '--entrypoint', 'sh', IMAGE,
      '-c', `sleep 600 | restic --no-cache -r rest:http://${REST}:8000/host backup --stdin --host other`,
    );
    expect(hold.exitCode, hold.stderr).toBe(0);
    try {
      // The lock is the repository's locks/ directory gaining a file.
      expect(await waitFor(60, async () => (await docker('exec', REST, 'ls', '/data/host/locks')).stdout.trim() !== '')).toBe(true);
      const seen = await faultyRun(target);
      expect(seen.status.offsite.message).toMatch(/^Off-site forget\/prune failed: .*repository is already locked .*by /);
      // The upload itself went through before the prune was refused.
      expect(seen.status.offsite.snapshot).toMatch(/^[0-9a-f]{8}$/);
      expect(seen.status.offsite.last_success).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    } finally {
      await docker('rm', '-f', holder);
    }
  });
});

describe('off-site to an SFTP server', () => {
  let keyLine = '';

  it('provision with an sftp: repository, the key from a {"file"} secret and the server\'s real host key: the run phase\'s backup is on the server; the key is only in the 0600 files', async () => {
    const target = await host();
    // The login key is made for this run; the server authorises it and nothing else.
    const key = path.join(target.work, 'sftp-key');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'tracker-backup-test', '-f', key]);
    keyLine = readFileSync(key, 'utf8').split('\n')[1] as string;
    const up = await docker('run', '-d', '--name', SFTP, '--network', stackNetwork(target), '-e', `AUTHORIZED_KEY=${readFileSync(`${key}.pub`, 'utf8').trim()}`, SFTP_IMAGE);
    expect(up.exitCode, up.stderr).toBe(0);
    // sshd makes its host keys when it starts: known_hosts gets the one it really has.
    expect(await waitFor(30, async () => (await docker('exec', SFTP, 'test', '-s', '/etc/ssh/ssh_host_ed25519_key.pub')).exitCode === 0)).toBe(true);
    const hostKey = (await docker('exec', SFTP, 'cat', '/etc/ssh/ssh_host_ed25519_key.pub')).stdout.split(' ').slice(0, 2).join(' ');
    const envFile = envVariant(target, 'offsite-sftp', (env) => {
      env.backup.offsite = {
        repository: `sftp:restic@${SFTP}:/srv/restic/host`,
        password: { env: 'TB_OFFSITE_PASSWORD' },
        ssh_key: { file: key },
        known_hosts: [`${SFTP} ${hostKey}`],
      };
      env.backup.alerts = { ping_url: pingUrl };
    });
    process.env.TB_OFFSITE_PASSWORD = PASSWORD;
    const provision = await cli(['provision', '--env', envFile], target);
    expect(provision.exitCode, provision.stdout + provision.stderr).toBe(0);
    expect(provision.stdout + provision.stderr).not.toContain(keyLine);
    // The host was provisioned before (the REST describe), so provision took no backup of its
    // own: the next run, as cron runs it, is the first to reach the SFTP server.
    await onTarget(target, ': > /var/log/tracker-backup.log');
    expect(await runMaintenance(target)).toBe(0);
    process.stdout.write(`off-site sftp e2e: the run's log:\n${(await onTarget(target, 'cat /var/log/tracker-backup.log')).stdout}\n`);
    const seen = await status(target);
    expect(seen.result).toBe('success');
    // The REST describe's run checked its repository; this one is new, so it is checked now.
    expect(seen.offsite, JSON.stringify(seen.offsite)).toMatchObject({ result: 'success', check: { result: 'success' } });
    expect(seen.offsite.snapshot).toMatch(/^[0-9a-f]{8}$/);
    // The snapshot, in the repository on the server's disk.
    const snapshots = (await docker('exec', SFTP, 'ls', '/srv/restic/host/snapshots')).stdout.trim().split('\n');
    expect(snapshots.filter((id) => id.startsWith(seen.offsite.snapshot ?? '-'))).toHaveLength(1);
    // On the target: the key in etc/offsite/ssh_key (0600 root) and nowhere else.
    const onHost = await onTarget(target, `stat -c '%n %a %U' storage/backup/etc/offsite/ssh_key storage/backup/etc/offsite/known_hosts; grep -c '${SFTP} ${hostKey}' storage/backup/etc/offsite/known_hosts; grep -rlF '${keyLine}' . /var/log/tracker-backup.log /etc/cron.d /usr/local/bin /usr/local/lib/tracker-backup || true`);
    expect(onHost.stdout.trim().split('\n')).toEqual([
      'storage/backup/etc/offsite/ssh_key 600 root',
      'storage/backup/etc/offsite/known_hosts 600 root',
      '1',
      './storage/backup/etc/offsite/ssh_key',
    ]);
    // In the generated project: only in the 0600 secrets file.
    const project = path.join(target.work, 'ansible');
    const inProject = await execa('grep', ['-rlF', keyLine, project], { reject: false });
    const files = inProject.stdout.trim().split('\n');
    expect(files.map((file) => path.relative(project, file))).toEqual([expect.stringMatching(/^group_vars\/env_[^/]+\/secrets\.yml$/)]);
    expect(statSync(files[0] as string).mode & 0o777).toBe(0o600);
  });

  it('a wrong host key in known_hosts: the off-site step fails (StrictHostKeyChecking) and says so; nothing reaches the server; the local backup stands', async () => {
    const target = await host();
    expect(keyLine, 'the previous test provisioned the SFTP repository').not.toBe('');
    const other = path.join(target.work, 'other-host-key');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'impostor', '-f', other]);
    const impostor = readFileSync(`${other}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
    const snapshots = (await docker('exec', SFTP, 'ls', '/srv/restic/host/snapshots')).stdout;
    const seen = await faultyRun(target, 'known_hosts', `${SFTP} ${impostor}`);
    expect(seen.status.offsite.message).toMatch(/^Off-site repository could not be opened: ssh: Host key for \S+ has changed and you have requested strict checking\. Host key verification failed\. Fatal: /);
    expect((await docker('exec', SFTP, 'ls', '/srv/restic/host/snapshots')).stdout).toBe(snapshots);
  });
});
