// What `backup.sh finish` leaves for the off-site step (keep_for_offsite), run directly with
// bash against the real sqlite3: the checked SQLite copy rewritten with VACUUM INTO, each
// table and index in one run of pages, so that rows changed across a table touch only
// that table's part of the file (restic's chunks over the index stay the same).
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { beforeEach, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

const SCRIPT = path.join(ROOT, 'roles/tracker_backup/files/lib/backup.sh');
const STAMP = '20260210_030000';

let root: string;
let backups: string;
let staged: string;

async function finish(env: Record<string, string> = {}) {
  return execa('bash', [SCRIPT, 'finish'], {
    reject: false,
    env: { TRACKER_BACKUP_BACKUPS_DIR: backups, TRACKER_BACKUP_DATA_DIR: path.join(root, 'data'), ...env },
  });
}

async function query(db: string, sql: string): Promise<string> {
  return (await execa('sqlite3', ['-readonly', db, sql])).stdout;
}

/**
 * B-trees (tables and indexes) whose pages lie in more than two runs of consecutive page
 * numbers. Two, not one: an index's root page is allocated by CREATE, before the table's
 * rows, and stays where it is.
 */
async function fragmented(db: string): Promise<string> {
  return query(
    db,
    'WITH p AS (SELECT name, pageno FROM dbstat) SELECT group_concat(name) FROM (SELECT name FROM p ' +
      'WHERE NOT EXISTS (SELECT 1 FROM p q WHERE q.name = p.name AND q.pageno = p.pageno - 1) GROUP BY name HAVING count(*) > 2)',
  );
}

const CONTENT = 'SELECT count(*), sum(completed), sum(length(info_hash)), max(info_hash) FROM torrents';

beforeEach(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'tb-offsite-upload-'));
  backups = path.join(root, 'backups');
  staged = path.join(backups, '.staging', STAMP);
  for (const dir of ['etc/offsite', 'sqlite', 'mysql', 'config', 'manifests']) mkdirSync(path.join(backups, dir), { recursive: true });
  mkdirSync(staged, { recursive: true });
  mkdirSync(path.join(root, 'data/storage/tracker/etc'), { recursive: true });
  writeFileSync(path.join(root, 'data/storage/tracker/etc/tracker.toml'), '[core]\n');
  writeFileSync(path.join(backups, 'etc/backup.conf'), 'DATABASE_DRIVER=sqlite3\nSQLITE_PATH=storage/tracker/lib/database/tracker.db\nRETENTION_DAYS=7\nCOMPRESSION=gzip\n');
  writeFileSync(path.join(backups, 'etc/backup-paths.txt'), 'storage/tracker/etc/tracker.toml\n');
  writeFileSync(path.join(backups, 'etc/offsite/repository'), 'rest:http://offsite.invalid:8000/x', { mode: 0o600 });
  // As a tracker grows its database: torrents with random info hashes, each insert adding
  // to the table and to its unique index, so their pages interleave.
  await execa('sqlite3', [
    path.join(staged, 'database.db'),
    'CREATE TABLE torrents (id INTEGER PRIMARY KEY, info_hash TEXT NOT NULL UNIQUE, completed INTEGER NOT NULL); ' +
      'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) INSERT INTO torrents (info_hash, completed) SELECT lower(hex(randomblob(20))), i FROM n;',
  ]);
});

describe('keep_for_offsite on an SQLite backup', () => {
  it('uploads the checked copy rewritten in table order: same rows, passes quick_check, each table and index in one run of pages (an index root aside)', async () => {
    const source = path.join(staged, 'database.db');
    const content = await query(source, CONTENT);
    expect(await fragmented(source)).toContain('torrents');
    const result = await finish();
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('INFO: SQLite copy for off-site compacted in table order and checked (quick_check ok)');
    const upload = path.join(backups, '.offsite-upload/database.db');
    expect(await query(upload, 'PRAGMA quick_check')).toBe('ok');
    expect(await query(upload, CONTENT)).toBe(content);
    expect(await fragmented(upload)).toBe('');
    expect(existsSync(`${upload}.partial`)).toBe(false);
    expect(existsSync(path.join(backups, '.staging'))).toBe(false);
  });

  it('uploads the checked copy as it is, with a warning, when VACUUM INTO fails; the local run still succeeds', async () => {
    // sqlite3 as the image has it, except that VACUUM INTO fails (a full disk, say).
    const bin = path.join(root, 'bin');
    mkdirSync(bin);
    const real = (await execa('sh', ['-c', 'command -v sqlite3'])).stdout;
    writeFileSync(path.join(bin, 'sqlite3'), `#!/bin/sh\ncase "$*" in *'VACUUM INTO'*) echo 'Error: database or disk is full' >&2; exit 1 ;; esac\nexec ${real} "$@"\n`);
    chmodSync(path.join(bin, 'sqlite3'), 0o755);
    const content = await query(path.join(staged, 'database.db'), CONTENT);
    const result = await finish({ PATH: `${bin}:${process.env.PATH ?? ''}` });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(result.stdout + result.stderr).toContain('WARN: Could not compact the SQLite copy for off-site (VACUUM INTO failed); uploading it as it is');
    const upload = path.join(backups, '.offsite-upload/database.db');
    expect(await query(upload, CONTENT)).toBe(content);
    expect(await fragmented(upload)).toContain('torrents');
    expect(existsSync(`${upload}.partial`)).toBe(false);
  });
});
