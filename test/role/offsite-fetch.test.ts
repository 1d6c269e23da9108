// backup.sh offsite-fetch: an off-site snapshot made into a backup set the restore script
// consumes (docs/offsite.md, Restoring from off-site). restic is a stand-in on PATH whose
// `restore` puts the files an upload holds where restic would (test/e2e/offsite-dr.test.ts
// runs the real one); the database is a real SQLite file, the archive a real tar.gz, and
// the set is checked with the real gzip, tar and sha256sum.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { beforeEach, describe, expect, it } from 'vitest';
import { backupSh } from './restic-standin.js';

const WORKDIR = '.offsite-get-abcd1234';
const STAMP = '20261101_030000';

let root: string;
let backups: string;
let upload: string;

beforeEach(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'tb-offsite-fetch-'));
  backups = path.join(root, 'backups');
  upload = path.join(root, 'upload');
  for (const dir of [path.join(backups, 'etc/offsite'), path.join(backups, WORKDIR), upload, path.join(root, 'bin'), path.join(root, 'home'), path.join(root, 'conf/storage/tracker/etc')]) {
    mkdirSync(dir, { recursive: true });
  }
  writeFileSync(path.join(backups, 'etc/backup.conf'), 'DATABASE_DRIVER=sqlite3\nCOMPRESSION=gzip\nBACKUP_GID=0\nOFFSITE_HOST=tracker-host\n');
  writeFileSync(path.join(backups, 'etc/offsite/repository'), 'rest:http://backup:8000/x');
  writeFileSync(path.join(backups, 'etc/offsite/password'), 'pw\n');
  await execa('sqlite3', [path.join(upload, 'database.db'), "CREATE TABLE torrents (info_hash TEXT, completed INTEGER); INSERT INTO torrents VALUES ('a', 1), ('b', 2);"]);
  writeFileSync(path.join(root, 'conf/storage/tracker/etc/tracker.toml'), '[core]\n');
  await execa('tar', ['-czf', path.join(upload, 'config.tar.gz'), '-C', path.join(root, 'conf'), 'storage/tracker/etc/tracker.toml']);
  const restic = path.join(root, 'bin/restic');
  // `restic --no-cache restore SNAPSHOT --target DIR`: the upload's files under their paths.
  writeFileSync(restic, `#!/bin/bash\n[[ "$2" == restore ]] || exit 1\nmkdir -p "$5/backups/.offsite-upload" && cp "$FIXTURE_UPLOAD"/* "$5/backups/.offsite-upload/"\n`);
  chmodSync(restic, 0o755);
});

async function fetch(): Promise<{ exitCode: number; output: string }> {
  const run = await backupSh(root, backups, ['offsite-fetch', WORKDIR, '0123abcd', STAMP], { FIXTURE_UPLOAD: upload });
  return { exitCode: run.exitCode, output: run.stdout + run.stderr };
}

describe('backup.sh offsite-fetch', () => {
  it('makes the snapshot a backup set: the database and the archive compressed, proven and listed in a manifest that verifies', async () => {
    const run = await fetch();
    expect(run.exitCode, run.output).toBe(0);
    const set = path.join(backups, WORKDIR);
    const manifest = path.join(set, 'manifests', readdirSync(path.join(set, 'manifests'))[0] ?? '-');
    const listed = readFileSync(manifest, 'utf8').trim().split('\n').map((line) => line.split('  ')[1]);
    expect(listed).toHaveLength(2);
    expect(listed.every((file) => file?.includes(STAMP) && file.endsWith('.gz'))).toBe(true);
    expect((await execa('sha256sum', ['-c', manifest], { cwd: set, reject: false })).exitCode).toBe(0);
    const database = listed.find((file) => file?.endsWith('.db.gz')) ?? '-';
    const restored = await execa('bash', ['-c', `gzip -dc -- '${database}' | cmp - '${path.join(upload, 'database.db')}'`], { cwd: set, reject: false });
    expect(restored.exitCode, restored.stderr).toBe(0);
    const archive = listed.find((file) => file?.endsWith('.tar.gz')) ?? '-';
    expect((await execa('tar', ['-tzf', archive], { cwd: set })).stdout).toBe('storage/tracker/etc/tracker.toml');
    // Nothing of restic's tree, no scratch directory and no partial file is left in the set.
    expect(existsSync(path.join(set, 'restic'))).toBe(false);
    expect((await execa('find', [set, '-name', '.*'])).stdout.trim().split('\n')).toEqual([set]);
  });

  it('a database that fails quick_check: refused, and no manifest or backup file is made', async () => {
    writeFileSync(path.join(upload, 'database.db'), 'SQLite format 3\0 but nothing after it');
    const run = await fetch();
    expect(run.exitCode).not.toBe(0);
    expect(run.output).toContain('SQLite snapshot failed its check');
    const set = path.join(backups, WORKDIR);
    expect((await execa('find', [set, '-type', 'f', '-name', '*_*'])).stdout).toBe('');
  });
});
