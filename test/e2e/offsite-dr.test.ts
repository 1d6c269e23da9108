// Disaster recovery from the off-site repository (issue 12, requirement 3), end to end and
// through the CLI: a sandbox target provisioned with backup.offsite (a real restic REST
// server, Debian 13's restic-rest-server, on the target's compose network) gets rows and a
// config change and backs them up; then the target is destroyed (`sandbox.sh down`) and a
// fresh one created under the same name, so the same environment (same repository, same
// inventory host name). `provision`, then `restore --from offsite --yes`, and the rows and
// the config are back. Along the way: the fresh host's first backup does not upload over
// the history; `backups --json` carries the snapshots (checked against the host schema);
// a plan changes nothing; `--at STAMP --only config`; an unreachable repository fails in
// one clear line and changes nothing.
//
// One REST server and one sandbox at a time, shared by the steps in order.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostBackups } from '../../src/ansible/listing.js';
import { ROOT } from '../helpers.js';
import { hostSchemaProblems } from '../host-schema.js';
import { backupsJson, cli, envVariant, lastStatus, onTarget, sandboxDown, sandboxUp, type Sandbox } from './sandbox.js';

const REST = `tbsandbox-offsite-dr-rest-${process.pid}`;
const REST_IMAGE = 'tracker-backup-sandbox/offsite-rest';
const DATABASE = 'storage/tracker/lib/database/tracker.db';
const CONFIG = 'storage/tracker/etc/tracker.toml';
const MARKER = `# restored from off-site ${process.pid}`;
// Rows of the operator's own table: the stand-in tracker keeps writing its own.
const ROWS = 'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) INSERT INTO dr_rows SELECT i, hex(randomblob(20)) FROM n;';

let sandbox: Sandbox | undefined;
let envFile = '';
let host = '';
const started = Date.now();

async function docker(...args: string[]) {
  return execa('docker', args, { reject: false });
}

/** The target's compose network: the backup container runs there, so the server joins it. */
function network(): string {
  return `tbsandbox-${(sandbox as Sandbox).name}_default`;
}

async function rows(): Promise<string> {
  const out = await onTarget(sandbox as Sandbox, `sqlite3 -cmd '.timeout 30000' ${DATABASE} "SELECT count(*), coalesce(group_concat(id || ':' || hash, ','), '') FROM dr_rows" 2>&1 || true`);
  return out.stdout.trim();
}

async function config(): Promise<string> {
  return (await onTarget(sandbox as Sandbox, `cat ${CONFIG}`)).stdout;
}

/** A sandbox named like the first one, its env file with backup.offsite (the password from the environment). */
async function target(): Promise<void> {
  sandbox = await sandboxUp('offsite-dr');
  const connect = await docker('network', 'connect', network(), REST);
  expect(connect.exitCode, connect.stderr).toBe(0);
  envFile = envVariant(sandbox, 'offsite', (env) => {
    // keep_* 0: forget --prune removes nothing (restic: "no policy was specified"), so both
    // of the day's snapshots stay for --at; with the defaults only the day's newest would.
    (env as unknown as { backup: Record<string, unknown> }).backup.offsite = {
      repository: `rest:http://${REST}:8000/dr`,
      password: { env: 'TB_OFFSITE_DR_PASSWORD' },
      keep_daily: 0,
      keep_weekly: 0,
      keep_monthly: 0,
    };
  });
  host = sandbox.env.environment.name;
}

async function snapshotCount(): Promise<number> {
  const out = await docker('exec', REST, 'sh', '-c', 'ls /data/dr/snapshots | wc -l');
  return Number(out.stdout.trim());
}

beforeAll(async () => {
  process.env.TB_OFFSITE_DR_PASSWORD = 'dr pw {{ not templated }}';
  const build = await docker('build', '-q', '-t', REST_IMAGE, path.join(ROOT, 'sandbox/offsite'));
  expect(build.exitCode, build.stderr).toBe(0);
  const up = await docker('run', '-d', '--name', REST, REST_IMAGE);
  expect(up.exitCode, up.stderr).toBe(0);
});

afterAll(async () => {
  // The server first: attached to the stack's network, it would keep sandbox down from removing it.
  await docker('rm', '-f', REST);
  await sandboxDown(sandbox);
  console.log(`offsite-dr.test.ts took ${Math.round((Date.now() - started) / 1000)} s`);
});

describe('disaster recovery from the off-site repository', () => {
  let before = '';
  let stamps: [string, string] = ['', ''];

  it('the old host: provision with backup.offsite, rows and a config change, a backup; both runs go off-site', async () => {
    await target();
    const provision = await cli(['provision', '--env', envFile], sandbox as Sandbox);
    expect(provision.exitCode, provision.stderr).toBe(0);
    const first = (await lastStatus(sandbox as Sandbox)) as unknown as { stamp: string; offsite: { result: string } };
    expect(first.offsite.result).toBe('success');
    const write = await onTarget(sandbox as Sandbox, `sqlite3 -cmd '.timeout 30000' ${DATABASE} "CREATE TABLE dr_rows (id INTEGER PRIMARY KEY, hash TEXT); ${ROWS}" && printf '%s\\n' '${MARKER}' >> ${CONFIG}`);
    expect(write.exitCode, write.stderr).toBe(0);
    before = await rows();
    expect(before).toMatch(/^500\|1:/);
    const backup = await cli(['backup', '--env', envFile], sandbox as Sandbox);
    expect(backup.exitCode, backup.stderr).toBe(0);
    const second = (await lastStatus(sandbox as Sandbox)) as unknown as { stamp: string; offsite: { result: string } };
    expect(second.offsite.result).toBe('success');
    stamps = [first.stamp, second.stamp];
    expect(await snapshotCount()).toBe(2);
  });

  it('the host is destroyed and rebuilt under the same name: provision does not upload its empty database over the history', async () => {
    const disconnect = await docker('network', 'disconnect', network(), REST);
    expect(disconnect.exitCode, disconnect.stderr).toBe(0);
    await sandboxDown(sandbox);
    await target();
    expect(await rows()).toContain('no such table: dr_rows');
    const provision = await cli(['provision', '--env', envFile], sandbox as Sandbox);
    expect(provision.exitCode, provision.stderr).toBe(0);
    const status = (await lastStatus(sandbox as Sandbox)) as unknown as { result: string; offsite: { result: string; message: string } };
    expect(status.result).toBe('success');
    expect(status.offsite).toMatchObject({ result: 'skipped', message: expect.stringContaining('restore them with restore --from offsite') as unknown });
    expect(await snapshotCount()).toBe(2);
  });

  it('backups lists the off-site snapshots (text and --json, the host document valid against list.v1)', async () => {
    const text = await cli(['backups', '--env', envFile], sandbox as Sandbox);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toContain(`off-site (restic snapshots of ${host}):`);
    for (const stamp of stamps) expect(text.stdout).toMatch(new RegExp(`${stamp} +\\S+ +[0-9a-f]{8} +config sqlite`));
    const json = await cli(['backups', '--env', envFile, '--json'], sandbox as Sandbox);
    expect(json.exitCode, json.stderr).toBe(0);
    const doc = backupsJson(json.stdout)[host] as HostBackups;
    expect(hostSchemaProblems('list.v1.schema.json', doc)).toEqual([]);
    expect(doc.offsite?.result).toBe('success');
    expect(doc.offsite?.snapshots.map((s) => s.stamp)).toEqual(stamps);
  });

  it('restore --from offsite without --yes: a plan from the fetched and checked snapshot; nothing changes', async () => {
    const listing = await onTarget(sandbox as Sandbox, 'ls -aR storage/backup | sort');
    const plan = await cli(['restore', '--env', envFile, '--from', 'offsite'], sandbox as Sandbox);
    expect(plan.exitCode, plan.stderr).toBe(0);
    expect(plan.stdout).toContain(`Backup chosen: ${stamps[1]} (--from offsite, --at latest, --only all)`);
    expect(plan.stdout).toContain('Checksums verified for backup');
    expect(plan.stdout).toMatch(/Would restore sqlite\/sqlite_\d{8}_\d{6}\.db\.gz over storage\/tracker\/lib\/database\/tracker\.db/);
    expect(plan.stdout).toContain('Dry run: nothing was changed.');
    expect(await rows()).toContain('no such table: dr_rows');
    expect((await onTarget(sandbox as Sandbox, 'ls -aR storage/backup | sort')).stdout).toBe(listing.stdout);
  });

  it('restore --from offsite --yes: the rows and the config are back', async () => {
    const restore = await cli(['restore', '--env', envFile, '--from', 'offsite', '--yes'], sandbox as Sandbox);
    expect(restore.exitCode, restore.stderr).toBe(0);
    expect(restore.stdout).toContain(`Restored backup ${stamps[1]}`);
    expect(await rows()).toBe(before);
    expect(await config()).toContain(MARKER);
    // The snapshot is now a verified backup of the store.
    const verify = await onTarget(sandbox as Sandbox, `tracker-backup verify --at ${stamps[1]}`);
    expect(verify.exitCode, verify.stdout + verify.stderr).toBe(0);
  });

  it('restore --from offsite --at STAMP --only config: that run\'s config, the database untouched', async () => {
    const restore = await cli(['restore', '--env', envFile, '--from', 'offsite', '--at', stamps[0], '--only', 'config', '--yes', '--json'], sandbox as Sandbox);
    expect(restore.exitCode, restore.stderr).toBe(0);
    const answer = JSON.parse(restore.stdout) as { hosts: Record<string, { reported: { tracker_backup_restore: Record<string, unknown> } }> };
    const doc = answer.hosts[host]?.reported.tracker_backup_restore;
    expect(hostSchemaProblems('restore.v1.schema.json', doc)).toEqual([]);
    expect(doc).toMatchObject({ from: 'offsite', stamp: stamps[0], only: 'config', result: 'restored', files: [`config/config_${stamps[0]}.tar.gz`] });
    expect(await config()).not.toContain(MARKER);
    expect(await rows()).toBe(before);
  });

  it('an unreachable repository: backups and restore --from offsite fail in one clear line, nothing changes', async () => {
    const disconnect = await docker('network', 'disconnect', network(), REST);
    expect(disconnect.exitCode, disconnect.stderr).toBe(0);
    const listing = await onTarget(sandbox as Sandbox, 'ls -aR storage/backup | sort');
    const backups = await cli(['backups', '--env', envFile], sandbox as Sandbox);
    expect(backups.exitCode).toBe(1);
    expect(backups.stdout).toMatch(/off-site: could not be listed: Off-site repository could not be read: Fatal: /);
    // The local listing is there all the same.
    expect(backups.stdout).toContain(`config/config_${stamps[1]}.tar.gz`);
    const restore = await cli(['restore', '--env', envFile, '--from', 'offsite', '--yes'], sandbox as Sandbox);
    expect(restore.exitCode).toBe(1);
    expect(restore.stdout).toMatch(/ERROR: Off-site snapshots could not be listed: Off-site repository could not be read: Fatal: .*; nothing was changed/);
    expect(await rows()).toBe(before);
    expect((await onTarget(sandbox as Sandbox, 'ls -aR storage/backup | sort')).stdout).toBe(listing.stdout);
    const leaks = await onTarget(sandbox as Sandbox, `grep -rlF 'dr pw' /var/log/tracker-backup.log storage/backup --exclude-dir=offsite --exclude-dir=sqlite --exclude-dir=config || true`);
    expect(leaks.stdout.trim()).toBe('');
    expect(readFileSync(envFile, 'utf8')).not.toContain('dr pw');
  });
});
