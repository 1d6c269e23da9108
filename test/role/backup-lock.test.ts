// The backup container's entrypoint and the maintenance lock: a manual
// `docker compose run --rm backup` (command `all`) takes the lock the host script takes,
// through the same file, and touches nothing while another run holds it. Run directly
// with bash and the real flock, as in backup-script.test.ts.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

const SCRIPT = path.join(ROOT, 'roles/tracker_backup/files/lib/backup.sh');
const DATABASE = 'storage/tracker/lib/database/tracker.db';
const STAMP = '20260210_030000';

let backups: string;
let data: string;
let holder: ResultPromise | undefined;

async function run(...args: string[]) {
  return execa('bash', [SCRIPT, ...args], {
    reject: false,
    env: { TRACKER_BACKUP_BACKUPS_DIR: backups, TRACKER_BACKUP_DATA_DIR: data, BACKUP_STAMP: STAMP },
  });
}

/** Another run holding storage/backup/etc/maintenance.lock, as the host script does. */
async function holdLock(): Promise<void> {
  const lock = path.join(backups, 'etc/maintenance.lock');
  // One process that holds the lock on its own descriptor, so that killing it frees the lock.
  holder = execa('bash', ['-c', 'exec 9>>"$1"; flock 9; exec sleep 60', 'holder', lock], { reject: false });
  for (let tries = 0; tries < 100; tries++) {
    if ((await execa('flock', ['--nonblock', lock, 'true'], { reject: false })).exitCode !== 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the lock holder never took the lock');
}

/** What another run has in flight: a staged snapshot and a partial file. */
function plantInFlight(): string[] {
  mkdirSync(path.join(backups, '.staging/20260210_020000'), { recursive: true });
  writeFileSync(path.join(backups, '.staging/20260210_020000/database.db'), 'staged');
  writeFileSync(path.join(backups, 'sqlite/.sqlite_20260210_020000.db.gz.partial'), 'half');
  return ['.staging/20260210_020000/database.db', 'sqlite/.sqlite_20260210_020000.db.gz.partial'];
}

beforeEach(async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'tb-lock-'));
  backups = path.join(root, 'backups');
  data = path.join(root, 'data');
  for (const dir of ['etc', 'sqlite', 'mysql', 'config', 'manifests']) mkdirSync(path.join(backups, dir), { recursive: true });
  mkdirSync(path.join(data, path.dirname(DATABASE)), { recursive: true });
  writeFileSync(
    path.join(backups, 'etc/backup.conf'),
    `DATABASE_DRIVER=sqlite3\nSQLITE_PATH=${DATABASE}\nRETENTION_DAYS=7\nCOMPRESSION=gzip\n`,
  );
  writeFileSync(path.join(backups, 'etc/backup-paths.txt'), '');
  await execa('sqlite3', [path.join(data, DATABASE), "CREATE TABLE torrents(info_hash TEXT); INSERT INTO torrents VALUES ('a');"]);
});

afterEach(async () => {
  holder?.kill();
  await holder;
  holder = undefined;
});

describe('backup.sh and the maintenance lock', () => {
  it('all (the manual `docker compose run --rm backup`) exits 75 while another run holds the lock, touching nothing', async () => {
    const planted = plantInFlight();
    await holdLock();
    const result = await run('all');
    expect(result.exitCode, result.stdout + result.stderr).toBe(75);
    expect(result.stdout).toMatch(/^\[[0-9-]{10} [0-9:]{8}\] ERROR: Another backup is already running \(lock .*\/etc\/maintenance.lock is held\)/m);
    for (const file of planted) expect(existsSync(path.join(backups, file)), file).toBe(true);
    expect(readdirSync(path.join(backups, 'sqlite'))).toEqual(['.sqlite_20260210_020000.db.gz.partial']);
    expect(readdirSync(path.join(backups, 'manifests'))).toEqual([]);
  });

  it('prune exits 75 while another run holds the lock and deletes nothing', async () => {
    writeFileSync(path.join(backups, 'sqlite/sqlite_20200101_000000.db.gz'), '');
    writeFileSync(path.join(backups, 'sqlite/sqlite_20200102_000000.db.gz'), '');
    await holdLock();
    const result = await run('prune');
    expect(result.exitCode, result.stdout + result.stderr).toBe(75);
    expect(readdirSync(path.join(backups, 'sqlite')).sort()).toEqual(['sqlite_20200101_000000.db.gz', 'sqlite_20200102_000000.db.gz']);
  });

  it('all runs as before when the lock is free, creating the lock file', async () => {
    const result = await run('all');
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(readdirSync(path.join(backups, 'sqlite'))).toEqual([`sqlite_${STAMP}.db.gz`]);
    expect(existsSync(path.join(backups, 'etc/maintenance.lock'))).toBe(true);
  });

  it('snapshot and finish, the steps the host script runs under its own lock, do not wait for it', async () => {
    await holdLock();
    const snapshot = await run('snapshot');
    expect(snapshot.exitCode, snapshot.stdout + snapshot.stderr).toBe(0);
    const finish = await run('finish');
    expect(finish.exitCode, finish.stdout + finish.stderr).toBe(0);
    expect(readdirSync(path.join(backups, 'sqlite'))).toEqual([`sqlite_${STAMP}.db.gz`]);
    expect(readdirSync(path.join(backups, 'manifests'))).toEqual([`manifest_${STAMP}.sha256`]);
  });
});
