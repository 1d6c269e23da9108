// The backup container's entrypoint, run directly with bash against real sqlite3, gzip
// and tar (the same programs the image installs), with the clock pinned for retention.
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { beforeEach, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

const SCRIPT = path.join(ROOT, 'roles/tracker_backup/files/lib/backup.sh');
const DAY = 86_400;
/** 2026-02-10 03:00:00 UTC */
const NOW = Date.UTC(2026, 1, 10, 3, 0, 0) / 1000;

let backups: string;
let data: string;

function stampAt(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
}

async function run(command: string) {
  return execa('bash', [SCRIPT, command], {
    reject: false,
    env: { TRACKER_BACKUP_BACKUPS_DIR: backups, TRACKER_BACKUP_DATA_DIR: data, TRACKER_BACKUP_NOW: String(NOW) },
  });
}

function list(kind: string): string[] {
  return readdirSync(path.join(backups, kind)).sort();
}

function touch(kind: string, name: string): void {
  writeFileSync(path.join(backups, kind, name), '');
}

beforeEach(async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'tb-script-'));
  backups = path.join(root, 'backups');
  data = path.join(root, 'data');
  for (const dir of ['etc', 'sqlite', 'mysql', 'config', 'manifests']) mkdirSync(path.join(backups, dir), { recursive: true });
  mkdirSync(path.join(data, 'storage/tracker/lib/database'), { recursive: true });
  mkdirSync(path.join(data, 'storage/tracker/etc'), { recursive: true });
  writeFileSync(path.join(data, 'storage/tracker/etc/tracker.toml'), '[core]\n');
  writeFileSync(
    path.join(backups, 'etc/backup.conf'),
    'DATABASE_DRIVER=sqlite3\nSQLITE_PATH=storage/tracker/lib/database/tracker.db\nRETENTION_DAYS=7\n',
  );
  writeFileSync(path.join(backups, 'etc/backup-paths.txt'), 'storage/tracker/etc/tracker.toml\nstorage/prometheus/etc/prometheus.yml\n');
  await execa('sqlite3', [
    path.join(data, 'storage/tracker/lib/database/tracker.db'),
    "CREATE TABLE torrents(id INTEGER PRIMARY KEY, info_hash TEXT); INSERT INTO torrents(info_hash) VALUES ('a'),('b'),('c');",
  ]);
});

describe('backup.sh all', () => {
  it('writes a gzipped SQLite copy with the same rows and a config archive, named by UTC stamp', async () => {
    const result = await run('all');
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    const stamp = stampAt(NOW);
    expect(list('sqlite')).toEqual([`sqlite_${stamp}.db.gz`]);
    expect(list('config')).toEqual([`config_${stamp}.tar.gz`]);
    const restored = path.join(backups, 'restored.db');
    await execa('sh', ['-c', 'gunzip -c "$1" > "$2"', 'sh', path.join(backups, 'sqlite', `sqlite_${stamp}.db.gz`), restored]);
    expect((await execa('sqlite3', [restored, 'SELECT group_concat(info_hash) FROM torrents'])).stdout).toBe('a,b,c');
    const tar = await execa('tar', ['-tzf', path.join(backups, 'config', `config_${stamp}.tar.gz`)]);
    expect(tar.stdout.split('\n')).toEqual(['storage/tracker/etc/tracker.toml']);
    expect(result.stdout).toMatch(
      /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] WARN: Config path storage\/prometheus\/etc\/prometheus.yml not found; skipped$/m,
    );
    expect(result.stdout).toMatch(/INFO: SQLite snapshot taken \(.*integrity ok\)/);
  });

  it('writes a SHA-256 manifest of the run that sha256sum -c accepts, and it catches a changed file', async () => {
    expect((await run('all')).exitCode).toBe(0);
    const stamp = stampAt(NOW);
    expect(list('manifests')).toEqual([`manifest_${stamp}.sha256`]);
    const check = await execa('sha256sum', ['-c', `manifests/manifest_${stamp}.sha256`], { cwd: backups });
    expect(check.stdout.split('\n').sort()).toEqual([`config/config_${stamp}.tar.gz: OK`, `sqlite/sqlite_${stamp}.db.gz: OK`]);
    writeFileSync(path.join(backups, 'sqlite', `sqlite_${stamp}.db.gz`), 'tampered');
    expect((await execa('sha256sum', ['-c', `manifests/manifest_${stamp}.sha256`], { cwd: backups, reject: false })).exitCode).toBe(1);
  });

  it('names the run after BACKUP_STAMP when the maintenance script passes one, and refuses a malformed one', async () => {
    const named = await execa('bash', [SCRIPT, 'all'], {
      reject: false,
      env: { TRACKER_BACKUP_BACKUPS_DIR: backups, TRACKER_BACKUP_DATA_DIR: data, BACKUP_STAMP: '20250101_010203' },
    });
    expect(named.exitCode).toBe(0);
    expect(list('sqlite')).toEqual(['sqlite_20250101_010203.db.gz']);
    const bad = await execa('bash', [SCRIPT, 'all'], {
      reject: false,
      env: { TRACKER_BACKUP_BACKUPS_DIR: backups, TRACKER_BACKUP_DATA_DIR: data, BACKUP_STAMP: '../../x' },
    });
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout).toContain('BACKUP_STAMP must look like');
  });

  it('fails without publishing anything or pruning when the database is missing', async () => {
    touch('sqlite', `sqlite_${stampAt(NOW - 30 * DAY)}.db.gz`);
    touch('sqlite', `sqlite_${stampAt(NOW - 20 * DAY)}.db.gz`);
    writeFileSync(path.join(backups, 'etc/backup.conf'), 'DATABASE_DRIVER=sqlite3\nSQLITE_PATH=storage/nope.db\nRETENTION_DAYS=7\n');
    const result = await run('all');
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('ERROR: SQLite database not found');
    expect(list('sqlite')).toHaveLength(2);
    expect(list('config')).toEqual([]);
  });

  it('never treats a leftover partial file as a backup and clears it on the next run', async () => {
    touch('sqlite', '.sqlite_20260101_000000.db.gz.partial');
    const result = await run('all');
    expect(result.exitCode).toBe(0);
    expect(list('sqlite').filter((f) => f.endsWith('.partial'))).toEqual([]);
  });

  it('refuses a config line that is not KEY=value instead of guessing', async () => {
    writeFileSync(path.join(backups, 'etc/backup.conf'), 'DATABASE_DRIVER=sqlite3\n$(touch /tmp/x)\n');
    const result = await run('all');
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('not a KEY=value line');
  });
});

describe('retention (backup.sh prune), age from the stamp in the name', () => {
  it('keeps a backup exactly retention_days old and deletes one a second older', async () => {
    for (const age of [7 * DAY, 7 * DAY + 1, 30 * DAY, DAY]) touch('sqlite', `sqlite_${stampAt(NOW - age)}.db.gz`);
    const result = await run('prune');
    expect(result.exitCode).toBe(0);
    expect(list('sqlite')).toEqual([`sqlite_${stampAt(NOW - 7 * DAY)}.db.gz`, `sqlite_${stampAt(NOW - DAY)}.db.gz`]);
    expect(result.stdout).toContain(`Retention: deleted sqlite_${stampAt(NOW - 30 * DAY)}.db.gz (30 days old)`);
  });

  it('never deletes the newest backup of a kind, however old (after a long outage)', async () => {
    touch('sqlite', `sqlite_${stampAt(NOW - 40 * DAY)}.db.gz`);
    touch('sqlite', `sqlite_${stampAt(NOW - 14 * DAY)}.db.gz`);
    touch('config', `config_${stampAt(NOW - 14 * DAY)}.tar.gz`);
    await run('prune');
    expect(list('sqlite')).toEqual([`sqlite_${stampAt(NOW - 14 * DAY)}.db.gz`]);
    expect(list('config')).toEqual([`config_${stampAt(NOW - 14 * DAY)}.tar.gz`]);
  });

  it('leaves files that do not follow the naming pattern alone', async () => {
    const others = ['notes.txt', 'sqlite_old.db.gz', 'sqlite_20200101_000000.db.gz.bak', 'mysql_20200101_000000.sql.gz'];
    for (const name of others) touch('sqlite', name);
    touch('sqlite', `sqlite_${stampAt(NOW)}.db.gz`);
    await run('prune');
    expect(list('sqlite')).toEqual([...others, `sqlite_${stampAt(NOW)}.db.gz`].sort());
  });

  it('prunes manifests with the same rule as the backups they list', async () => {
    for (const days of [1, 30]) touch('manifests', `manifest_${stampAt(NOW - days * DAY)}.sha256`);
    await run('prune');
    expect(list('manifests')).toEqual([`manifest_${stampAt(NOW - DAY)}.sha256`]);
  });

  it('handles each kind separately and a gap in runs', async () => {
    for (const days of [1, 2, 20, 21]) {
      touch('mysql', `mysql_${stampAt(NOW - days * DAY)}.sql.gz`);
      touch('config', `config_${stampAt(NOW - days * DAY)}.tar.gz`);
    }
    await run('prune');
    expect(list('mysql')).toEqual([`mysql_${stampAt(NOW - 2 * DAY)}.sql.gz`, `mysql_${stampAt(NOW - DAY)}.sql.gz`]);
    expect(list('config')).toHaveLength(2);
  });
});
