// Operations on a bad day, on real targets (SQLite): back up now, list, restore in place
// (dry run, chosen timestamp, corrupt backup refused, failure rolled back) and disaster
// recovery onto a second, fresh target. Stand-in: the tracker service only.
import { execa } from 'execa';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostSchemaProblems } from '../host-schema.js';
import { asDeployUser, cli, onTarget, sandboxDown, sandboxUp, type CliRun, type Sandbox, trackerRunning, backupsJson, runMaintenance } from './sandbox.js';

let first: Sandbox | undefined;
let second: Sandbox | undefined;
const measured: Record<string, unknown> = {};
/** Data set A: the tracker's rows at the first backup, taken with the tracker stopped. */
let stampA = '';
let canonicalA = '';

function one(): Sandbox {
  if (!first) throw new Error('sandbox was not created');
  return first;
}

function dbPath(sandbox: Sandbox): string {
  return `${sandbox.deployDir}/storage/tracker/lib/database/tracker.db`;
}

async function canonical(sandbox: Sandbox): Promise<string> {
  const dump = await execa('sqlite3', [dbPath(sandbox), 'SELECT * FROM torrents ORDER BY id; SELECT * FROM keys ORDER BY id; SELECT * FROM whitelist ORDER BY id;']);
  return dump.stdout;
}

async function sha(file: string): Promise<string> {
  return (await execa('sha256sum', [file])).stdout.split(' ')[0] ?? '';
}

async function tracker(sandbox: Sandbox, action: 'stop' | 'start'): Promise<void> {
  await onTarget(sandbox, `docker-compose ${action} tracker >/dev/null 2>&1`);
}

/** The stand-in tracker's container start time: a new one means the tracker was stopped. */
async function startedAt(sandbox: Sandbox): Promise<string> {
  return (await onTarget(sandbox, 'docker inspect -f "{{.State.StartedAt}}" $(docker-compose ps -q tracker)')).stdout.trim();
}

/** Every name under storage/backup, hidden ones included, sorted. */
async function storeFiles(sandbox: Sandbox): Promise<string[]> {
  return (await onTarget(sandbox, 'cd storage/backup && find . -mindepth 1 | LC_ALL=C sort')).stdout.split('\n');
}

async function backupNow(sandbox: Sandbox): Promise<string> {
  const run = await cli(['backup', '--env', sandbox.envFile], sandbox);
  expect(run.exitCode).toBe(0);
  const stamp = /created sqlite\/sqlite_(\d{8}_\d{6})\.db\.gz/.exec(run.stdout)?.[1];
  expect(stamp, run.stdout).toBeDefined();
  return stamp as string;
}

/** The setup's `provision --json`, checked by a test of its own. */
let provisioned: CliRun | undefined;

beforeAll(async () => {
  first = await sandboxUp('restore');
  provisioned = await cli(['provision', '--env', one().envFile, '--json'], one());
  if (provisioned.exitCode !== 0) throw new Error('provision failed');
});

afterAll(async () => {
  await sandboxDown(first);
  await sandboxDown(second);
  process.stdout.write(`restore measurements: ${JSON.stringify(measured)}\n`);
});

describe('backup now and list', () => {
  it('`backup` runs the maintenance script now, prints its log lines and the files it created', async () => {
    const run = await cli(['backup', '--env', one().envFile], one());
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('Backup maintenance completed (exit code: 0)');
    expect(run.stdout).toMatch(/created sqlite\/sqlite_\d{8}_\d{6}\.db\.gz \(\d+(\.\d)? (B|KiB|MiB|GiB)\)/);
    expect(run.stdout).toMatch(/created config\/config_\d{8}_\d{6}\.tar\.gz/);
  });

  it('`provision --json` printed one document: the host ok, with its recap and the initial backup', () => {
    const doc = JSON.parse(provisioned?.stdout ?? '') as { schema: string; ok: boolean; hosts: Record<string, { state: string; recap: { failures: number }; created: string[] }> };
    expect(doc).toMatchObject({ schema: 'tracker-backup-cli.provision.v1', ok: true, failed: [] });
    const host = doc.hosts[one().env.environment.name];
    expect(host).toMatchObject({ state: 'ok', recap: { failures: 0, unreachable: 0 } });
    expect(host?.created.some((file) => /\/storage\/backup\/sqlite\/sqlite_\d{8}_\d{6}\.db\.gz$/.test(file))).toBe(true);
    // Ansible's own output went to stderr.
    expect(provisioned?.stderr).toContain('PLAY RECAP');
  });

  it('`backup --json` and `restore --json` (a dry run) print one document each, host ok', async () => {
    const name = one().env.environment.name;
    const backup = await cli(['backup', '--env', one().envFile, '--json'], one());
    expect(backup.exitCode).toBe(0);
    const taken = JSON.parse(backup.stdout) as { schema: string; hosts: Record<string, { state: string; exitCode: number; output: string[]; files: { path: string; bytes: number }[] }> };
    expect(taken).toMatchObject({ schema: 'tracker-backup-cli.backup.v1', ok: true });
    expect(taken.hosts[name]).toMatchObject({ state: 'ok', exitCode: 0 });
    expect(taken.hosts[name]?.output.join('\n')).toContain('Backup maintenance completed (exit code: 0)');
    expect(taken.hosts[name]?.files.map((f) => f.path).some((p) => /^sqlite\/sqlite_\d{8}_\d{6}\.db\.gz$/.test(p))).toBe(true);
    expect(backup.stderr).toContain('PLAY RECAP');

    const plan = await cli(['restore', '--env', one().envFile, '--json'], one());
    expect(plan.exitCode).toBe(0);
    const planned = JSON.parse(plan.stdout) as { hosts: Record<string, { state: string; exitCode: number; output: string[] }> };
    expect(planned).toMatchObject({ schema: 'tracker-backup-cli.restore.v1', ok: true, dryRun: true, at: 'latest' });
    expect(planned.hosts[name]).toMatchObject({ state: 'ok', exitCode: 0 });
    expect(planned.hosts[name]?.output.join('\n')).toContain('Would restore sqlite/sqlite_');
  });

  it('`backups --json` passes on each host\'s list (taken_at, size, a verified checksum) and the last run', async () => {
    const run = await cli(['backups', '--env', one().envFile, '--json'], one());
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ schema: 'tracker-backup-cli.backups.v1', ok: true });
    const listing = backupsJson(run.stdout)[one().env.environment.name];
    const sqlite = listing?.backups.filter((b) => b.kind === 'sqlite') ?? [];
    expect(sqlite.length).toBeGreaterThanOrEqual(2);
    for (const b of sqlite) {
      expect(b.checksum).toBe('verified');
      expect(b.bytes).toBeGreaterThan(0);
      expect(Date.parse(b.taken_at)).toBeLessThanOrEqual(Date.now());
    }
    expect(listing?.last_run?.result).toBe('success');
  });

  it('`backups` flags a file that no longer matches its manifest', async () => {
    const victim = (await onTarget(one(), 'ls -1 storage/backup/config/config_*.tar.gz | head -n 1')).stdout.trim();
    await onTarget(one(), `cp ${victim} /tmp/keep && printf x >> ${victim}`);
    const run = await cli(['backups', '--env', one().envFile], one());
    await onTarget(one(), `cp /tmp/keep ${victim}`);
    expect(run.stdout).toMatch(/MISMATCH\s+config\/config_/);
  });
});

async function trackerStartedAt(): Promise<string> {
  return (await onTarget(one(), 'for id in $(docker-compose ps -q tracker); do docker inspect -f "{{.State.StartedAt}}" "$id"; done')).stdout;
}

// /usr/local/bin/tracker-backup itself, over SSH as an operator (or Ansible) runs it: each
// --json answer is one document that validates against schemas/host.
describe('the host program', () => {
  let stamp = '';

  it('`run --json`: the guide\'s log lines on stderr, the run\'s status as one document on stdout', async () => {
    const run = await onTarget(one(), 'tracker-backup run --json');
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toContain('INFO: Backup completed successfully');
    expect(run.stderr).toContain('Backup maintenance completed (exit code: 0)');
    const doc = JSON.parse(run.stdout) as { stamp: string; result: string; files: { kind: string; path: string }[] };
    expect(hostSchemaProblems('run.v1.schema.json', doc)).toEqual([]);
    expect(doc.result).toBe('success');
    expect(doc.files.map((f) => f.kind).sort()).toEqual(['config', 'sqlite']);
    stamp = doc.stamp;
    const status = JSON.parse((await onTarget(one(), 'cat storage/backup/status.json')).stdout) as Record<string, unknown>;
    expect({ schema: 'tracker-backup.run.v1', ...status }).toEqual(doc);
  });

  it('`list --json` as the deploy user, without sudo: every backup verified, the last run', async () => {
    const run = await asDeployUser(one(), `cd ${one().deployDir} && tracker-backup list --json`);
    expect(run.exitCode, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout) as { backups: { stamp: string; checksum: string }[]; last_run: { stamp: string } };
    expect(hostSchemaProblems('list.v1.schema.json', doc)).toEqual([]);
    expect(doc.backups.filter((b) => b.stamp === stamp)).toHaveLength(2);
    expect(doc.backups.every((b) => b.checksum === 'verified')).toBe(true);
    expect(doc.last_run.stamp).toBe(stamp);
  });

  it('`verify`, `verify --at`, `status` and the restore plan answer with valid documents', async () => {
    const verify = await onTarget(one(), 'tracker-backup verify --json');
    expect(verify.exitCode, verify.stderr).toBe(0);
    expect(hostSchemaProblems('verify.v1.schema.json', JSON.parse(verify.stdout))).toEqual([]);
    const at = await onTarget(one(), `tracker-backup verify --at ${stamp}`);
    expect(at.exitCode).toBe(0);
    expect(at.stdout).toContain('2 checked, 0 failed: all match their manifests');
    const status = await onTarget(one(), 'tracker-backup status --json');
    expect(hostSchemaProblems('status.v1.schema.json', JSON.parse(status.stdout))).toEqual([]);
    const plan = await onTarget(one(), `tracker-backup restore --at ${stamp} --json`);
    expect(plan.exitCode, plan.stderr).toBe(0);
    expect(plan.stderr).toContain('Dry run: nothing was changed');
    const doc = JSON.parse(plan.stdout) as Record<string, unknown>;
    expect(hostSchemaProblems('restore.v1.schema.json', doc)).toEqual([]);
    expect(doc).toMatchObject({ stamp, result: 'planned', yes: false, exit_code: 0 });
  });

  it('an invalid backup.conf: the cron entry\'s run refuses with one log line, the tracker untouched', async () => {
    const before = await trackerStartedAt();
    await onTarget(one(), 'cp storage/backup/etc/backup.conf /tmp/backup.conf.keep && sed -i "s/^RETENTION_DAYS=.*/RETENTION_DAYS=400/" storage/backup/etc/backup.conf');
    const code = await runMaintenance(one());
    const log = (await onTarget(one(), 'tail -n 2 /var/log/tracker-backup.log')).stdout;
    await onTarget(one(), 'cp /tmp/backup.conf.keep storage/backup/etc/backup.conf');
    expect(code).toBe(1);
    expect(log).toMatch(/ERROR: RETENTION_DAYS must be a whole number from 1 to 365, not '400' \(in .*backup\.conf; nothing was done\)\n.*Backup maintenance completed \(exit code: 1\)$/);
    expect(await trackerRunning(one())).toBe(true);
    const after = await trackerStartedAt();
    expect(after).toBe(before);
  });
});

describe('restore in place', () => {
  it('round trip: data A is backed up, changed to B, and the restore brings back exactly A', async () => {
    await tracker(one(), 'stop');
    stampA = await backupNow(one());
    canonicalA = await canonical(one());
    expect(canonicalA.split('\n').length).toBeGreaterThan(3);
    await execa('sqlite3', [dbPath(one()), "DELETE FROM torrents WHERE id % 2 = 0; INSERT INTO whitelist(info_hash) VALUES ('data-set-b');"]);
    expect(await canonical(one())).not.toBe(canonicalA);

    const before = await sha(dbPath(one()));
    const plan = await cli(['restore', '--env', one().envFile, '--at', stampA], one());
    expect(plan.exitCode).toBe(0);
    expect(plan.stdout).toContain(`Would restore sqlite/sqlite_${stampA}.db.gz over storage/tracker/lib/database/tracker.db`);
    expect(plan.stdout).toContain('Dry run: nothing was changed.');
    expect(await sha(dbPath(one()))).toBe(before);

    const run = await cli(['restore', '--env', one().envFile, '--at', stampA, '--yes'], one());
    expect(run.exitCode).toBe(0);
    expect(await canonical(one())).toBe(canonicalA);
    // The tracker was stopped before, so the restore leaves it stopped.
    expect(await trackerRunning(one())).toBe(false);
    expect(run.stdout).toContain('Tracker was not running before the restore; it is left stopped');
    await tracker(one(), 'start');
  });

  it('restores a chosen older backup with a running tracker, and starts it again', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const newer = await backupNow(one());
    expect(newer > stampA).toBe(true);
    const run = await cli(['restore', '--env', one().envFile, '--at', stampA, '--only', 'database', '--yes'], one());
    expect(run.exitCode).toBe(0);
    expect(await trackerRunning(one())).toBe(true);
    const down = /Tracker started successfully \(down for ([\d.]+)s\)/.exec(run.stdout)?.[1];
    measured.sqlite_restore_downtime_s = Number(down);
    // The tracker writes again after the restart; every row of A is back and B's marker is gone.
    await tracker(one(), 'stop');
    const now = await canonical(one());
    for (const row of canonicalA.split('\n').filter((l) => l.includes('|'))) expect(now).toContain(row);
    expect(now).not.toContain('data-set-b');
    await tracker(one(), 'start');
  });

  it('refuses a corrupted backup before touching anything', async () => {
    await tracker(one(), 'stop');
    const file = `${one().deployDir}/storage/backup/sqlite/sqlite_${stampA}.db.gz`;
    const saved = path.join(one().work, 'saved.db.gz');
    copyFileSync(file, saved);
    writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.from('garbage')]));
    const before = await sha(dbPath(one()));
    try {
      const run = await cli(['restore', '--env', one().envFile, '--at', stampA, '--yes'], one());
      expect(run.exitCode).toBe(1);
      expect(run.stdout).toContain(`checksum of sqlite/sqlite_${stampA}.db.gz does not match its manifest: refusing`);
      expect(await sha(dbPath(one()))).toBe(before);
      expect(await trackerRunning(one())).toBe(false);
    } finally {
      copyFileSync(saved, file);
      await tracker(one(), 'start');
    }
  });

  it('refuses a backup that fails its checks while the tracker still runs: nothing changed, nothing left', async () => {
    // A run whose database file is good and whose config archive is not an archive at all,
    // yet listed with its true checksum: the preparation (decompress and check, before the
    // stop) finds it.
    const stamp = '20300101_000000';
    const backups = `${one().deployDir}/storage/backup`;
    await execa('sh', ['-c', `set -e; cd "$1"; cp sqlite/sqlite_$2.db.gz sqlite/sqlite_$3.db.gz
      echo 'not a tar archive' > config/config_$3.tar.gz
      sha256sum sqlite/sqlite_$3.db.gz config/config_$3.tar.gz > manifests/manifest_$3.sha256`, 'sh', backups, stampA, stamp]);
    const filesBefore = await storeFiles(one());
    const startedBefore = await startedAt(one());
    try {
      const run = await cli(['restore', '--env', one().envFile, '--at', stamp, '--yes'], one());
      expect(run.exitCode).toBe(1);
      expect(run.stdout).toContain(`could not prepare the restore of backup ${stamp}; nothing was changed`);
      expect(run.stdout).not.toContain('Stopping tracker container');
      expect(await startedAt(one())).toBe(startedBefore);
      expect(await trackerRunning(one())).toBe(true);
      // The safety archive taken for it and the staging directories are gone again.
      expect(await storeFiles(one())).toEqual(filesBefore);
    } finally {
      await execa('sh', ['-c', `cd "$1" && rm -f sqlite/sqlite_$2.db.gz config/config_$2.tar.gz manifests/manifest_$2.sha256`, 'sh', backups, stamp]);
    }
  });
});

describe('restore downtime (SQLite): the tracker is down only for the swap', () => {
  it('prepares before the stop, swaps while stopped, publishes a verified, restorable safety backup after the restart', async () => {
    const marker = 'state-before-downtime-restore';
    await tracker(one(), 'stop');
    await execa('sqlite3', [dbPath(one()), `INSERT INTO whitelist(info_hash) VALUES ('${marker}');`]);
    await tracker(one(), 'start');
    const id = (await onTarget(one(), 'docker-compose ps -q tracker')).stdout.trim();
    const startedBefore = await startedAt(one());
    // Nanoseconds: the start just above may fall within this second, and must not count.
    const since = (await onTarget(one(), 'date +%s.%N')).stdout.trim();

    const run = await cli(['restore', '--env', one().envFile, '--at', stampA, '--yes'], one());
    expect(run.exitCode).toBe(0);
    const until = Number((await onTarget(one(), 'date +%s')).stdout.trim()) + 1;
    const startedAfter = await startedAt(one());
    expect(startedAfter).not.toBe(startedBefore);
    // Started once: one stop and one start of the tracker's container in the whole restore.
    const events = await onTarget(one(), `docker events --since ${since} --until ${until} --filter container=${id} --filter event=start --filter event=die --format '{{.Status}}'`);
    expect(events.stdout.trim().split('\n')).toEqual(['die', 'start']);

    // Decompress, check and config restore before the stop; no container between stop and start.
    const log = run.stdout;
    const stop = log.indexOf('Stopping tracker container');
    const start = log.indexOf('Starting tracker container');
    expect(stop).toBeGreaterThan(0);
    expect(log.indexOf(`Decompressed and checked sqlite_${stampA}.db.gz`)).toBeGreaterThan(0);
    expect(log.indexOf(`Decompressed and checked sqlite_${stampA}.db.gz`)).toBeLessThan(stop);
    expect(log.indexOf(`Restored config files from config_${stampA}.tar.gz`)).toBeGreaterThan(0);
    expect(log.indexOf(`Restored config files from config_${stampA}.tar.gz`)).toBeLessThan(stop);
    const downtime = log.slice(stop, start);
    expect(downtime).toContain('Safety copy of storage/tracker/lib/database/tracker.db taken');
    expect(downtime).toContain(`Restored SQLite database storage/tracker/lib/database/tracker.db from sqlite_${stampA}.db.gz`);
    expect(downtime).not.toContain('compose:');

    // The safety backup: published after the restart, complete, verified, holding the old state.
    const safety = /Safety backup (\d{8}_\d{6}) taken/.exec(log)?.[1];
    expect(safety, log).toBeDefined();
    const manifest = `storage/backup/manifests/manifest_${safety}.sha256`;
    const times = await onTarget(one(), `date -r ${manifest} +%s.%N; date -d '${startedAfter}' +%s.%N`);
    const [published, restarted] = times.stdout.trim().split('\n').map(Number);
    expect(published).toBeGreaterThan(restarted as number);
    const check = await onTarget(one(), `cd storage/backup && sha256sum -c manifests/manifest_${safety}.sha256`);
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toContain(`sqlite/sqlite_${safety}.db.gz: OK`);
    expect(check.stdout).toContain(`config/config_${safety}.tar.gz: OK`);

    // The restored database is the backup's: every row of A, not the marker.
    await tracker(one(), 'stop');
    const now = await canonical(one());
    for (const row of canonicalA.split('\n').filter((l) => l.includes('|'))) expect(now).toContain(row);
    expect(now).not.toContain(marker);
    await tracker(one(), 'start');

    // And the safety backup restores the state before the restore.
    const back = await cli(['restore', '--env', one().envFile, '--at', safety as string, '--only', 'database', '--yes'], one());
    expect(back.exitCode).toBe(0);
    await tracker(one(), 'stop');
    expect(await canonical(one())).toContain(marker);
    await tracker(one(), 'start');
  });

  it('a failure while the tracker is stopped puts the previous database and config back and starts the tracker', async () => {
    // Injected fault: a directory where the old database's shared-memory file would be, so
    // removing the old journals fails after the stop, once the config was already restored.
    const marker = 'state-before-failed-restore';
    const shm = `${dbPath(one())}-shm`;
    const toml = `${one().deployDir}/storage/tracker/etc/tracker.toml`;
    await tracker(one(), 'stop');
    await execa('sqlite3', [dbPath(one()), `INSERT INTO whitelist(info_hash) VALUES ('${marker}');`]);
    const before = await canonical(one());
    writeFileSync(toml, `${readFileSync(toml, 'utf8')}# ${marker}\n`);
    const tomlBefore = readFileSync(toml, 'utf8');
    mkdirSync(shm);
    await tracker(one(), 'start');
    try {
      const run = await cli(['restore', '--env', one().envFile, '--at', stampA, '--yes'], one());
      expect(run.exitCode).toBe(1);
      expect(run.stdout).toContain('Stopping tracker container');
      expect(run.stdout).toContain('Restore failed; putting the previous state back from the safety copy');
      expect(run.stdout).toContain('Previous state restored from the safety copy');
      expect(await trackerRunning(one())).toBe(true);
      expect(readFileSync(toml, 'utf8')).toBe(tomlBefore);
      const safety = /Safety backup (\d{8}_\d{6}) taken/.exec(run.stdout)?.[1];
      expect(safety, run.stdout).toBeDefined();
      await tracker(one(), 'stop');
      const after = await canonical(one());
      for (const row of before.split('\n').filter((l) => l.includes('|'))) expect(after).toContain(row);
      expect(after).toContain(marker);
    } finally {
      rmSync(shm, { recursive: true, force: true });
      await tracker(one(), 'start');
    }
  });
});

describe('disaster recovery', () => {
  it('restores backups fetched from one host onto a second, freshly provisioned one (--from-dir)', async () => {
    second = await sandboxUp('restore-dr');
    expect((await cli(['provision', '--env', second.envFile], second)).exitCode).toBe(0);
    // What an operator copied off the lost host: the run's files and its manifest.
    const fetched = mkdtempSync(path.join(tmpdir(), 'tb-fetched-'));
    for (const dir of ['sqlite', 'config', 'manifests']) {
      cpSync(`${one().deployDir}/storage/backup/${dir}`, path.join(fetched, dir), {
        recursive: true,
        filter: (src) => !path.basename(src).includes('_') || path.basename(src).includes(stampA),
      });
    }
    await tracker(second, 'stop');
    const run = await cli(['restore', '--env', second.envFile, '--from-dir', fetched, '--at', stampA, '--yes'], second);
    expect(run.exitCode).toBe(0);
    expect(await canonical(second)).toBe(canonicalA);
    await tracker(second, 'start');
  });
});
