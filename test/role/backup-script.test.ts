// The backup container's entrypoint, run directly with bash against real sqlite3, gzip,
// zstd and tar (the same programs the image installs), with the clock pinned for retention.
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
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
/** Outside the deploy directory: where a planted link points. */
let outside: string;

function stampAt(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
}

async function run(...args: string[]) {
  return execa('bash', [SCRIPT, ...args], {
    reject: false,
    env: {
      TRACKER_BACKUP_BACKUPS_DIR: backups,
      TRACKER_BACKUP_DATA_DIR: data,
      TRACKER_BACKUP_RESTORE_DIR: data,
      TRACKER_BACKUP_NOW: String(NOW),
    },
  });
}

const DATABASE = 'storage/tracker/lib/database/tracker.db';

function configure(compression: 'gzip' | 'zstd', sqlitePath = DATABASE): void {
  writeFileSync(
    path.join(backups, 'etc/backup.conf'),
    `DATABASE_DRIVER=sqlite3\nSQLITE_PATH=${sqlitePath}\nRETENTION_DAYS=7\nCOMPRESSION=${compression}\n`,
  );
}

async function rows(db: string): Promise<string> {
  return (await execa('sqlite3', [db, 'SELECT group_concat(info_hash) FROM torrents'])).stdout;
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
  outside = path.join(root, 'outside');
  mkdirSync(outside);
  for (const dir of ['etc', 'sqlite', 'mysql', 'config', 'manifests']) mkdirSync(path.join(backups, dir), { recursive: true });
  mkdirSync(path.join(data, 'storage/tracker/lib/database'), { recursive: true });
  mkdirSync(path.join(data, 'storage/tracker/etc'), { recursive: true });
  writeFileSync(path.join(data, 'storage/tracker/etc/tracker.toml'), '[core]\n');
  configure('gzip');
  writeFileSync(path.join(backups, 'etc/backup-paths.txt'), 'storage/tracker/etc/tracker.toml\nstorage/prometheus/etc/prometheus.yml\n');
  await execa('sqlite3', [
    path.join(data, DATABASE),
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
    expect(await rows(restored)).toBe('a,b,c');
    const tar = await execa('tar', ['-tzf', path.join(backups, 'config', `config_${stamp}.tar.gz`)]);
    expect(tar.stdout.split('\n')).toEqual(['storage/tracker/etc/tracker.toml']);
    expect(result.stdout).toMatch(
      /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] WARN: Config path storage\/prometheus\/etc\/prometheus.yml not found; skipped$/m,
    );
    expect(result.stdout).toMatch(/INFO: SQLite snapshot taken \(\d+ KiB\)/);
    expect(result.stdout).toContain('INFO: SQLite snapshot checked (quick_check ok)');
  });

  it('with COMPRESSION=zstd writes .zst files that zstd reads back, listed in the manifest', async () => {
    configure('zstd');
    const result = await run('all');
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    const stamp = stampAt(NOW);
    expect(list('sqlite')).toEqual([`sqlite_${stamp}.db.zst`]);
    expect(list('config')).toEqual([`config_${stamp}.tar.zst`]);
    const restored = path.join(backups, 'restored.db');
    await execa('zstd', ['-q', '-d', path.join(backups, 'sqlite', `sqlite_${stamp}.db.zst`), '-o', restored]);
    expect(await rows(restored)).toBe('a,b,c');
    const check = await execa('sha256sum', ['-c', `manifests/manifest_${stamp}.sha256`], { cwd: backups });
    expect(check.stdout.split('\n').sort()).toEqual([`config/config_${stamp}.tar.zst: OK`, `sqlite/sqlite_${stamp}.db.zst: OK`]);
  });

  it('refuses an unknown COMPRESSION without publishing anything', async () => {
    configure('lz4' as 'zstd');
    const result = await run('all');
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain("COMPRESSION must be gzip or zstd, not 'lz4'");
    expect(list('sqlite')).toEqual([]);
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
    configure('gzip', 'storage/nope.db');
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

  it('treats .gz and .zst as one kind: a switch of compression neither strands nor loses the newest', async () => {
    touch('sqlite', `sqlite_${stampAt(NOW - 30 * DAY)}.db.gz`);
    touch('sqlite', `sqlite_${stampAt(NOW - 20 * DAY)}.db.zst`);
    touch('sqlite', `sqlite_${stampAt(NOW - 10 * DAY)}.db.gz`);
    touch('config', `config_${stampAt(NOW - 9 * DAY)}.tar.zst`);
    touch('config', `config_${stampAt(NOW - 8 * DAY)}.tar.gz`);
    await run('prune');
    expect(list('sqlite')).toEqual([`sqlite_${stampAt(NOW - 10 * DAY)}.db.gz`]);
    expect(list('config')).toEqual([`config_${stampAt(NOW - 8 * DAY)}.tar.gz`]);
  });
});

describe('a restore\'s unpublished safety copy left in the staging directory', () => {
  // A restore killed after swapping the database in, before publishing its safety copy,
  // leaves the only copy of the previous database staged; the next run must not delete it.
  it('is kept as unpublished-safety_<stamp> by the next snapshot, which clears the rest', async () => {
    configure('gzip');
    const safety = path.join(backups, '.staging', '20260209_120000');
    const dead = path.join(backups, '.staging', '20260209_130000');
    mkdirSync(safety, { recursive: true });
    mkdirSync(dead, { recursive: true });
    writeFileSync(path.join(safety, 'database.db'), 'previous database');
    writeFileSync(path.join(safety, '.restore-safety'), '');
    writeFileSync(path.join(dead, 'database.db'), 'a dead run\'s snapshot');
    const result = await run('snapshot');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/WARN: An interrupted restore left its safety copy of the previous database unpublished; kept as .*unpublished-safety_20260209_120000/);
    expect(readFileSync(path.join(backups, 'unpublished-safety_20260209_120000', 'database.db'), 'utf8')).toBe('previous database');
    expect(readdirSync(path.join(backups, '.staging'))).toEqual([stampAt(NOW)]);
  });
});

describe('what a run publishes is proven to decompress to exactly the checked snapshot', () => {
  let bin: string;

  beforeEach(() => {
    bin = mkdtempSync(path.join(tmpdir(), 'tb-bin-'));
  });

  async function runWithFakes(...args: string[]) {
    return execa('bash', [SCRIPT, ...args], {
      reject: false,
      env: { TRACKER_BACKUP_BACKUPS_DIR: backups, TRACKER_BACKUP_DATA_DIR: data, TRACKER_BACKUP_NOW: String(NOW), PATH: `${bin}:${process.env.PATH}` },
    });
  }

  /** Puts a compressor on PATH that drops the first byte of what it compresses and passes decompression and tests through. */
  async function byteDroppingCompressors(): Promise<void> {
    for (const name of ['gzip', 'pigz', 'libdeflate-gzip', 'zstd']) {
      const real = (await execa('sh', ['-c', `command -v ${name} || true`])).stdout;
      if (!real) continue;
      writeFileSync(
        path.join(bin, name),
        `#!/bin/bash
for a in "$@"; do case "$a" in -d*|-t|--decompress|--test) exec ${real} "$@" ;; esac; done
args=(); file=""
while (($# > 0)); do if [[ "$1" == -- ]]; then file="$2"; break; fi; args+=("$1"); shift; done
if [[ -n "$file" ]]; then tail -c +2 -- "$file" | ${real} "\${args[@]}"; else tail -c +2 | ${real} "\${args[@]}"; fi
`,
        { mode: 0o755 },
      );
    }
  }

  function nothingPublished(): void {
    for (const kind of ['sqlite', 'config', 'manifests']) expect(list(kind)).toEqual([]);
  }

  // Such a file passes gzip -t / zstd -t: it is a well-formed stream, of the wrong bytes.
  it.each(['gzip', 'zstd'] as const)('%s: a compressor that drops a byte is caught and nothing is published', async (compression) => {
    configure(compression);
    await byteDroppingCompressors();
    const result = await runWithFakes('all');
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toMatch(/ERROR: verification failed for \S+sqlite_\d{8}_\d{6}\.db\.(gz|zst) \(it does not decompress to the checked snapshot\); not kept/);
    nothingPublished();
  });

  it('a snapshot changed after it passed quick_check is caught and nothing is published', async () => {
    const real = (await execa('sh', ['-c', 'command -v sqlite3'])).stdout;
    // The real check passes; then one byte of the checked file changes, as a stray writer would.
    writeFileSync(
      path.join(bin, 'sqlite3'),
      `#!/bin/bash
${real} "$@"; status=$?
if [[ "$*" == *"PRAGMA quick_check"* ]]; then printf X | dd of="$2" bs=1 seek=5000 conv=notrunc status=none; fi
exit $status
`,
      { mode: 0o755 },
    );
    const result = await runWithFakes('all');
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toContain('SQLite snapshot checked (quick_check ok)');
    expect(result.stdout).toMatch(/ERROR: verification failed for \S+sqlite_\d{8}_\d{6}\.db\.gz: the snapshot changed after its check; not kept/);
    nothingPublished();
  });

  it('a database of several 32 MiB gzip members gunzips back whole and in order, and the manifest holds', async () => {
    rmSync(path.join(data, DATABASE));
    await execa('sqlite3', [path.join(data, DATABASE), 'CREATE TABLE blobs(b); INSERT INTO blobs SELECT randomblob(1048576) FROM generate_series(1, 70);']);
    const result = await run('all');
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    const stamp = stampAt(NOW);
    const restored = path.join(backups, 'restored.db');
    await execa('sh', ['-c', 'gunzip -c "$1" > "$2"', 'sh', path.join(backups, 'sqlite', `sqlite_${stamp}.db.gz`), restored]);
    const sums = await execa('sh', ['-c', 'sqlite3 "$1" "SELECT count(*), sum(length(b)) FROM blobs" && sqlite3 "$1" "SELECT hex(substr(b, 1, 8)) FROM blobs ORDER BY rowid" | sha256sum && sqlite3 "$2" "SELECT hex(substr(b, 1, 8)) FROM blobs ORDER BY rowid" | sha256sum', 'sh', restored, path.join(data, DATABASE)]);
    const [counts, restoredRows, sourceRows] = sums.stdout.split('\n');
    expect(counts).toBe(`70|${70 * 1048576}`);
    expect(restoredRows).toBe(sourceRows);
    expect(statSync(restored).size).toBeGreaterThan(2 * 32 * 1048576);
    const check = await execa('sha256sum', ['-c', `manifests/manifest_${stamp}.sha256`], { cwd: backups });
    expect(check.stdout.split('\n').sort()).toEqual([`config/config_${stamp}.tar.gz: OK`, `sqlite/sqlite_${stamp}.db.gz: OK`]);
  });
});

describe('finish on a file copied while the tracker was stopped (stop mode)', () => {
  // An unclean stop can leave committed rows in the WAL only; the copy must keep them.
  it('recovers a WAL copied along with the database before checking and compressing it', async () => {
    const stamp = '20260210_030000';
    const staged = path.join(backups, '.staging', stamp);
    mkdirSync(staged, { recursive: true });
    const source = path.join(data, 'wal.db');
    // Python's sqlite3 keeps the connection open while the files are copied, then exits
    // without closing it, so the WAL is never checkpointed into the main file.
    await execa('python3', [
      '-c',
      `import os, shutil, sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute('PRAGMA journal_mode=WAL'); db.execute('PRAGMA wal_autocheckpoint=0')
db.execute('CREATE TABLE torrents(id INTEGER PRIMARY KEY, info_hash TEXT)')
db.execute("INSERT INTO torrents(info_hash) VALUES ('w1'),('w2')")
shutil.copy(sys.argv[1], sys.argv[2] + '/database.db'); shutil.copy(sys.argv[1] + '-wal', sys.argv[2] + '/database.db-wal')
os._exit(0)`,
      source,
      staged,
    ]);
    const result = await run('finish');
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('SQLite snapshot checked (quick_check ok)');
    const restored = path.join(backups, 'restored.db');
    await execa('sh', ['-c', 'gunzip -c "$1" > "$2"', 'sh', path.join(backups, 'sqlite', `sqlite_${stamp}.db.gz`), restored]);
    expect(await rows(restored)).toBe('w1,w2');
  });
});

describe('restore-sqlite', () => {
  it('puts back a .zst backup (written after a switch to zstd) and a .gz one alike', async () => {
    configure('zstd');
    expect((await run('all')).exitCode).toBe(0);
    const zstStamp = stampAt(NOW);
    await execa('sqlite3', [path.join(data, DATABASE), "DELETE FROM torrents; INSERT INTO torrents(info_hash) VALUES ('z')"]);
    const restoredZst = await run('restore-sqlite', `sqlite/sqlite_${zstStamp}.db.zst`);
    expect(restoredZst.exitCode, restoredZst.stdout + restoredZst.stderr).toBe(0);
    expect(restoredZst.stdout).toContain(`from sqlite_${zstStamp}.db.zst`);
    expect(await rows(path.join(data, DATABASE))).toBe('a,b,c');
    const missing = await run('restore-sqlite', 'sqlite/sqlite_20200101_000000.db.gz');
    expect(missing.exitCode).toBe(1);
    expect(missing.stdout).toContain('no sqlite backup sqlite/sqlite_20200101_000000.db.gz');
  });

  it('restores exactly the file it is given, not another compression of the same stamp', async () => {
    configure('zstd');
    expect((await run('all')).exitCode).toBe(0);
    const stamp = stampAt(NOW);
    // A different database under the same stamp with the other suffix, as a planted or
    // leftover file would be: the restore script verified the .zst, so the .zst comes back.
    const other = path.join(backups, 'other.db');
    await execa('sqlite3', [other, "CREATE TABLE torrents(id INTEGER PRIMARY KEY, info_hash TEXT); INSERT INTO torrents(info_hash) VALUES ('planted');"]);
    await execa('sh', ['-c', 'gzip -c "$1" > "$2"', 'sh', other, path.join(backups, 'sqlite', `sqlite_${stamp}.db.gz`)]);
    await execa('sqlite3', [path.join(data, DATABASE), "DELETE FROM torrents; INSERT INTO torrents(info_hash) VALUES ('z')"]);
    const result = await run('restore-sqlite', `sqlite/sqlite_${stamp}.db.zst`);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(`from sqlite_${stamp}.db.zst`);
    expect(await rows(path.join(data, DATABASE))).toBe('a,b,c');
  });

  it.each([
    ['a path outside /backups', 'sqlite/../../etc/sqlite_20260210_030000.db.gz', 'restore-sqlite'],
    ['an absolute path', '/backups/sqlite/sqlite_20260210_030000.db.gz', 'restore-sqlite'],
    ['a bare stamp', '20260210_030000', 'restore-sqlite'],
    ['another kind of backup', 'config/config_20260210_030000.tar.gz', 'restore-sqlite'],
    ['another suffix', 'config/config_20260210_030000.tar.bz2', 'restore-config'],
    ['a database file for the config step', 'sqlite/sqlite_20260210_030000.db.gz', 'restore-config'],
    ['a config file for the MySQL step', 'config/config_20260210_030000.tar.gz', 'restore-mysql'],
  ])('refuses %s as the file to restore, naming the expected form', async (_label, file, command) => {
    expect((await run('all')).exitCode).toBe(0);
    const result = await run(command, file);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/ERROR: not a (sqlite|mysql|config) backup file name: .* \(expected /);
  });
});

// What a SQLite restore runs before it stops the tracker, and the safety backup's finish.
describe('stage (a restore\'s preparation) and finish after it', () => {
  it('decompresses and checks the backup into the given directory, extracts its config, archives the current config as the safety stamp', async () => {
    expect((await run('all')).exitCode).toBe(0);
    const stamp = stampAt(NOW);
    const safety = '20260210_040000';
    mkdirSync(path.join(backups, '.restore-Ab3dE6gH'));
    writeFileSync(path.join(data, 'storage/tracker/etc/tracker.toml'), '[core]\n# current\n');
    const result = await run('stage', '.restore-Ab3dE6gH', `sqlite/sqlite_${stamp}.db.gz`, `config/config_${stamp}.tar.gz`);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(await rows(path.join(backups, '.restore-Ab3dE6gH/database.db'))).toBe('a,b,c');
    expect(readFileSync(path.join(backups, '.restore-Ab3dE6gH/tree/storage/tracker/etc/tracker.toml'), 'utf8')).toBe('[core]\n');
    // Without BACKUP_STAMP nothing is published; with it, the current config is.
    expect(list('config')).toEqual([`config_${stamp}.tar.gz`]);
    const archived = await execa('bash', [SCRIPT, 'stage', '.restore-Ab3dE6gH'], {
      reject: false,
      env: { TRACKER_BACKUP_BACKUPS_DIR: backups, TRACKER_BACKUP_DATA_DIR: data, TRACKER_BACKUP_NOW: String(NOW), BACKUP_STAMP: safety },
    });
    expect(archived.exitCode, archived.stdout + archived.stderr).toBe(0);
    const tar = await execa('tar', ['-xzOf', path.join(backups, 'config', `config_${safety}.tar.gz`), 'storage/tracker/etc/tracker.toml']);
    expect(tar.stdout).toBe('[core]\n# current');

    // finish publishes the staged safety copy with that archive, not a new one of what is there now.
    mkdirSync(path.join(backups, '.staging', safety), { recursive: true });
    await execa('cp', [path.join(data, DATABASE), path.join(backups, '.staging', safety, 'database.db')]);
    writeFileSync(path.join(data, 'storage/tracker/etc/tracker.toml'), '[core]\n# restored\n');
    const finished = await execa('bash', [SCRIPT, 'finish'], {
      reject: false,
      env: { TRACKER_BACKUP_BACKUPS_DIR: backups, TRACKER_BACKUP_DATA_DIR: data, TRACKER_BACKUP_NOW: String(NOW), BACKUP_STAMP: safety, BACKUP_PRUNE: 'no' },
    });
    expect(finished.exitCode, finished.stdout + finished.stderr).toBe(0);
    expect(finished.stdout).toContain(`Config archive of ${safety} was taken before the tracker stopped; not archiving again`);
    const after = await execa('tar', ['-xzOf', path.join(backups, 'config', `config_${safety}.tar.gz`), 'storage/tracker/etc/tracker.toml']);
    expect(after.stdout).toBe('[core]\n# current');
    const check = await execa('sha256sum', ['-c', `manifests/manifest_${safety}.sha256`], { cwd: backups });
    expect(check.stdout).toContain(`sqlite/sqlite_${safety}.db.gz: OK`);
    expect(check.stdout).toContain(`config/config_${safety}.tar.gz: OK`);
  });

  it.each([
    ['a name that is not a restore staging directory', '../etc'],
    ['a staging directory that does not exist', '.restore-Zz9yX8wV'],
  ])('refuses %s', async (_label, dir) => {
    expect((await run('all')).exitCode).toBe(0);
    const result = await run('stage', dir, `sqlite/sqlite_${stampAt(NOW)}.db.gz`);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/ERROR: (not a restore staging directory name|no restore staging directory)/);
  });

  it('refuses a staging directory that is a link', async () => {
    expect((await run('all')).exitCode).toBe(0);
    symlinkSync(outside, path.join(backups, '.restore-Ab3dE6gH'));
    const result = await run('stage', '.restore-Ab3dE6gH', `sqlite/sqlite_${stampAt(NOW)}.db.gz`);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('no restore staging directory .restore-Ab3dE6gH');
    expect(readdirSync(outside)).toEqual([]);
  });
});

// The tracker's containers can write into storage/tracker/...; a link planted there must
// never turn a restore (run as root) into a write somewhere else.
describe('restores never write through a link they did not create', () => {
  const DB_DIR = 'storage/tracker/lib/database';

  async function backupAll(): Promise<string> {
    const result = await run('all');
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    return stampAt(NOW);
  }

  function decoy(name: string, content: string): string {
    const file = path.join(outside, name);
    writeFileSync(file, content);
    return file;
  }

  it('restore-config refuses a config directory that is a link, and writes nothing at all', async () => {
    mkdirSync(path.join(data, 'storage/prometheus/etc'), { recursive: true });
    writeFileSync(path.join(data, 'storage/prometheus/etc/prometheus.yml'), 'scrape: backed-up\n');
    const stamp = await backupAll();
    writeFileSync(path.join(data, 'storage/prometheus/etc/prometheus.yml'), 'scrape: changed since\n');
    // storage/tracker/etc now leads elsewhere, to a file by the name the archive holds.
    const target = decoy('tracker.toml', 'decoy: must stay\n');
    rmSync(path.join(data, 'storage/tracker/etc'), { recursive: true });
    symlinkSync(outside, path.join(data, 'storage/tracker/etc'));
    const result = await run('restore-config', `config/config_${stamp}.tar.gz`);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/ERROR: storage\/tracker\/etc is a symbolic link; not restoring through it/);
    expect(readFileSync(target, 'utf8')).toBe('decoy: must stay\n');
    expect(readlinkSync(path.join(data, 'storage/tracker/etc'))).toBe(outside);
    // Checked before the first file was written: the other file was not restored either.
    expect(readFileSync(path.join(data, 'storage/prometheus/etc/prometheus.yml'), 'utf8')).toBe('scrape: changed since\n');
  });

  it('restore-config replaces a link at a config file\'s own name with the file, leaving its target alone', async () => {
    const stamp = await backupAll();
    const target = decoy('victim.toml', 'victim\n');
    rmSync(path.join(data, 'storage/tracker/etc/tracker.toml'));
    symlinkSync(target, path.join(data, 'storage/tracker/etc/tracker.toml'));
    const result = await run('restore-config', `config/config_${stamp}.tar.gz`);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(lstatSync(path.join(data, 'storage/tracker/etc/tracker.toml')).isFile()).toBe(true);
    expect(readFileSync(path.join(data, 'storage/tracker/etc/tracker.toml'), 'utf8')).toBe('[core]\n');
    expect(readFileSync(target, 'utf8')).toBe('victim\n');
  });

  it('restore-config refuses an archive that holds a link, before writing anything', async () => {
    const stamp = '20260210_030000';
    const tree = path.join(outside, 'tree');
    mkdirSync(path.join(tree, 'storage/tracker/etc'), { recursive: true });
    symlinkSync('/etc/passwd', path.join(tree, 'storage/tracker/etc/tracker.toml'));
    await execa('sh', ['-c', 'tar -cf - -C "$1" storage | gzip -c > "$2"', 'sh', tree, path.join(backups, 'config', `config_${stamp}.tar.gz`)]);
    const result = await run('restore-config', `config/config_${stamp}.tar.gz`);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain(`config_${stamp}.tar.gz holds entries other than regular files and directories`);
    expect(lstatSync(path.join(data, 'storage/tracker/etc/tracker.toml')).isFile()).toBe(true);
    expect(readFileSync(path.join(data, 'storage/tracker/etc/tracker.toml'), 'utf8')).toBe('[core]\n');
  });

  // An archive whose first entry is ENTRY (given as tar arguments, relative to `tree`),
  // followed by enough files that its listing outgrows a pipe buffer: a check that stops
  // reading at the first match must still refuse it.
  async function longArchive(tree: string, ...entry: string[]): Promise<string> {
    const stamp = '20260210_030000';
    mkdirSync(path.join(tree, 'many'), { recursive: true });
    for (let i = 0; i < 5000; i++) writeFileSync(path.join(tree, 'many', `file-with-a-longer-name-${i}.toml`), '');
    const archive = path.join(backups, 'config', `config_${stamp}.tar.gz`);
    await execa('sh', ['-c', 'cd "$1" && shift && tar -cf - "$@" many | gzip -c > "$0"', archive, tree, ...entry]);
    return `config/config_${stamp}.tar.gz`;
  }

  it('restore-config refuses an archive whose first entry is a link, however long the archive', async () => {
    const tree = path.join(outside, 'tree');
    mkdirSync(tree);
    symlinkSync('/etc/passwd', path.join(tree, 'a-link'));
    const result = await run('restore-config', await longArchive(tree, 'a-link'));
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('holds entries other than regular files and directories');
    expect(readdirSync(data)).toEqual(['storage']);
  });

  it('restore-config refuses an archive whose first entry leads outside, however long the archive', async () => {
    const tree = path.join(outside, 'tree');
    mkdirSync(tree);
    writeFileSync(path.join(outside, 'escape.toml'), 'escaped\n');
    const result = await run('restore-config', await longArchive(tree, '-P', '../escape.toml'));
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('holds paths outside the deploy directory');
    expect(readdirSync(data)).toEqual(['storage']);
  });

  it('restore-config recreates missing directories and keeps each file\'s archived mode', async () => {
    await execa('chmod', ['0640', path.join(data, 'storage/tracker/etc/tracker.toml')]);
    const stamp = await backupAll();
    rmSync(path.join(data, 'storage/tracker'), { recursive: true });
    const result = await run('restore-config', `config/config_${stamp}.tar.gz`);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(`Restored config files from config_${stamp}.tar.gz: 1 file(s)`);
    expect(readFileSync(path.join(data, 'storage/tracker/etc/tracker.toml'), 'utf8')).toBe('[core]\n');
    expect(statSync(path.join(data, 'storage/tracker/etc/tracker.toml')).mode & 0o7777).toBe(0o640);
    expect(readdirSync(path.join(data, 'storage/tracker/etc'))).toEqual(['tracker.toml']);
  });

  it('restore-sqlite never writes through a link planted at a temporary name in the database directory', async () => {
    const stamp = await backupAll();
    const target = decoy('victim', 'victim\n');
    // The name the restore used to write to, predictable from the stamp.
    symlinkSync(target, path.join(data, DB_DIR, `.restore-${stamp}.db`));
    const result = await run('restore-sqlite', `sqlite/sqlite_${stamp}.db.gz`);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(readFileSync(target, 'utf8')).toBe('victim\n');
    expect(await rows(path.join(data, DATABASE))).toBe('a,b,c');
  });

  it('restore-sqlite refuses a database file that is a link, and leaves the link and its target alone', async () => {
    const stamp = await backupAll();
    const target = path.join(outside, 'victim.db');
    await execa('sqlite3', [target, "CREATE TABLE torrents(id INTEGER PRIMARY KEY, info_hash TEXT); INSERT INTO torrents(info_hash) VALUES ('v');"]);
    rmSync(path.join(data, DATABASE));
    symlinkSync(target, path.join(data, DATABASE));
    const result = await run('restore-sqlite', `sqlite/sqlite_${stamp}.db.gz`);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain(`ERROR: ${DATABASE} is a symbolic link, not a regular file; not restoring over it`);
    expect(readlinkSync(path.join(data, DATABASE))).toBe(target);
    expect(await rows(target)).toBe('v');
  });

  it('restore-sqlite refuses a database directory that is a link', async () => {
    const stamp = await backupAll();
    const elsewhere = path.join(outside, 'database');
    mkdirSync(elsewhere);
    await execa('sqlite3', [path.join(elsewhere, 'tracker.db'), "CREATE TABLE torrents(id INTEGER PRIMARY KEY, info_hash TEXT); INSERT INTO torrents(info_hash) VALUES ('v');"]);
    rmSync(path.join(data, DB_DIR), { recursive: true });
    symlinkSync(elsewhere, path.join(data, DB_DIR));
    const result = await run('restore-sqlite', `sqlite/sqlite_${stamp}.db.gz`);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain(`ERROR: ${DB_DIR} is a symbolic link; not restoring through it`);
    expect(await rows(path.join(elsewhere, 'tracker.db'))).toBe('v');
    expect(readdirSync(elsewhere)).toEqual(['tracker.db']);
  });

  it('restore-sqlite gives the restored file the live file\'s mode and leaves no temporary file behind', async () => {
    const stamp = await backupAll();
    await execa('chmod', ['0640', path.join(data, DATABASE)]);
    const result = await run('restore-sqlite', `sqlite/sqlite_${stamp}.db.gz`);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(statSync(path.join(data, DATABASE)).mode & 0o7777).toBe(0o640);
    expect(readdirSync(path.join(data, DB_DIR))).toEqual(['tracker.db']);
    expect(readdirSync(backups).filter((name) => name.startsWith('.restore-'))).toEqual([]);
  });
});

describe('config paths that reach the backups directory (the real layout: /backups is /data/storage/backup)', () => {
  it('skips each one with an ERROR, keeps the other backups, prunes nothing and fails the run', async () => {
    // The container's view: the deploy directory at /data, its storage/backup also at /backups.
    const inData = path.join(data, 'storage/backup');
    for (const dir of ['etc', 'sqlite', 'mysql', 'config', 'manifests']) mkdirSync(path.join(inData, dir), { recursive: true });
    writeFileSync(path.join(inData, 'etc/backup.conf'), `DATABASE_DRIVER=sqlite3\nSQLITE_PATH=${DATABASE}\nRETENTION_DAYS=7\nCOMPRESSION=gzip\n`);
    writeFileSync(path.join(inData, 'etc/mysql-password'), 'secret');
    mkdirSync(path.join(data, 'links'));
    // Host-side symlinks: relative into storage/backup, and absolute to where the backups are mounted.
    symlinkSync('../storage/backup/etc', path.join(data, 'links/relative'));
    symlinkSync(inData, path.join(data, 'links/absolute'));
    const refused = ['.', 'storage', './storage//backup', 'storage/backup/etc/mysql-password', 'links/relative', 'links/absolute'];
    writeFileSync(path.join(inData, 'etc/backup-paths.txt'), ['storage/tracker/etc/tracker.toml', ...refused].join('\n'));
    backups = inData;
    touch('sqlite', `sqlite_${stampAt(NOW - 30 * DAY)}.db.gz`);
    const result = await run('all');
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    for (const entry of refused) {
      expect(result.stdout).toMatch(new RegExp(`^\\[[\\d: -]+\\] ERROR: Config path ${entry.replaceAll('.', '\\.')} is, contains or is inside the backups directory; skipped$`, 'm'));
    }
    expect(result.stdout).toContain('ERROR: Config paths overlapping the backups directory were left out of the archive');
    const stamp = stampAt(NOW);
    // Published and verified, but a failed run prunes nothing.
    expect(list('sqlite')).toEqual([`sqlite_${stampAt(NOW - 30 * DAY)}.db.gz`, `sqlite_${stamp}.db.gz`]);
    const tar = await execa('tar', ['-tzf', path.join(inData, 'config', `config_${stamp}.tar.gz`)]);
    expect(tar.stdout.split('\n')).toEqual(['storage/tracker/etc/tracker.toml']);
  });

  it('recognises the backups directory by identity too, as a symlink to /backups reaches it inside the container', async () => {
    // beforeEach's layout: /backups is not below /data, as with the separate mount.
    mkdirSync(path.join(data, 'links'));
    symlinkSync(path.join(backups, 'etc'), path.join(data, 'links/mounted'));
    writeFileSync(path.join(backups, 'etc/backup-paths.txt'), 'storage/tracker/etc/tracker.toml\nlinks/mounted\n');
    const result = await run('all');
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('ERROR: Config path links/mounted is, contains or is inside the backups directory; skipped');
    const tar = await execa('tar', ['-tzf', path.join(backups, 'config', `config_${stampAt(NOW)}.tar.gz`)]);
    expect(tar.stdout.split('\n')).toEqual(['storage/tracker/etc/tracker.toml']);
  });

  it('archives a neighbour whose name only starts like the backups directory', async () => {
    mkdirSync(path.join(data, 'storage/backup-notes'), { recursive: true });
    writeFileSync(path.join(data, 'storage/backup-notes/readme'), 'x');
    writeFileSync(path.join(backups, 'etc/backup-paths.txt'), 'storage/backup-notes\n');
    const result = await run('all');
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    const tar = await execa('tar', ['-tzf', path.join(backups, 'config', `config_${stampAt(NOW)}.tar.gz`)]);
    expect(tar.stdout.split('\n')).toContain('storage/backup-notes/readme');
  });
});

// The deploy user's group (BACKUP_GID) reads what a run publishes, as the guide's checks
// over SSH need; nobody else does. A manual `docker compose run --rm backup` goes
// through the same code.
describe('group and mode of what a run publishes', () => {
  const GID = 4242;

  function modeOf(file: string): string {
    const stat = statSync(file);
    return `${(stat.mode & 0o7777).toString(8)} ${stat.gid}`;
  }

  it('backups and the manifest are 0640 and belong to BACKUP_GID; missing directories come back 0750', async () => {
    rmSync(path.join(backups, 'mysql'), { recursive: true });
    writeFileSync(path.join(backups, 'etc/backup.conf'), `DATABASE_DRIVER=sqlite3\nSQLITE_PATH=${DATABASE}\nRETENTION_DAYS=7\nCOMPRESSION=gzip\nBACKUP_GID=${GID}\n`);
    const result = await run('all');
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    const stamp = stampAt(NOW);
    expect(modeOf(path.join(backups, 'sqlite', `sqlite_${stamp}.db.gz`))).toBe(`640 ${GID}`);
    expect(modeOf(path.join(backups, 'config', `config_${stamp}.tar.gz`))).toBe(`640 ${GID}`);
    expect(modeOf(path.join(backups, 'manifests', `manifest_${stamp}.sha256`))).toBe(`640 ${GID}`);
    expect(modeOf(path.join(backups, 'mysql'))).toBe(`750 ${GID}`);
  });

  it('without BACKUP_GID they are 0640 root:root, so nobody but root reads them', async () => {
    expect((await run('all')).exitCode).toBe(0);
    expect(modeOf(path.join(backups, 'sqlite', `sqlite_${stampAt(NOW)}.db.gz`))).toBe('640 0');
  });

  it('refuses a BACKUP_GID that is not a number, before publishing anything', async () => {
    writeFileSync(path.join(backups, 'etc/backup.conf'), `DATABASE_DRIVER=sqlite3\nSQLITE_PATH=${DATABASE}\nRETENTION_DAYS=7\nCOMPRESSION=gzip\nBACKUP_GID=torrust\n`);
    const result = await run('all');
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain("BACKUP_GID must be a numeric group id, not 'torrust'");
    expect(list('sqlite')).toEqual([]);
  });
});

// Backups the Torrust Tracker Deployer's own container wrote: the same names, no
// manifest, and config archives holding data/storage/... (its container archived /data).
describe('legacy backups (no manifest): check-legacy and restore-config --legacy', () => {
  const STAMP = '20260201_030000';

  async function legacySqlite(): Promise<string> {
    const copy = path.join(outside, 'legacy.db');
    await execa('sqlite3', [path.join(data, DATABASE), `.backup '${copy}'`]);
    await execa('sh', ['-c', 'gzip -c "$1" > "$2"', 'sh', copy, path.join(backups, 'sqlite', `sqlite_${STAMP}.db.gz`)]);
    return `sqlite/sqlite_${STAMP}.db.gz`;
  }

  async function legacyConfig(transform = 's,^storage/,data/storage/,'): Promise<string> {
    await execa('tar', ['-czf', path.join(backups, 'config', `config_${STAMP}.tar.gz`), '-C', data, `--transform=${transform}`, 'storage/tracker/etc/tracker.toml']);
    return `config/config_${STAMP}.tar.gz`;
  }

  function snapshotOfBackups(): string[] {
    return readdirSync(backups).sort().flatMap((dir) => [dir, ...(statSync(path.join(backups, dir)).isDirectory() ? readdirSync(path.join(backups, dir)).sort() : [])]);
  }

  it('checks an SQLite backup by decompression test and quick_check, says so, and writes nothing', async () => {
    const file = await legacySqlite();
    const before = snapshotOfBackups();
    const result = await run('check-legacy', file);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(`Check of legacy backup ${file}: decompression test passed`);
    expect(result.stdout).toContain(`Check of legacy backup ${file}: SQLite quick_check ok`);
    expect(snapshotOfBackups()).toEqual(before);
  });

  it('refuses a truncated gzip and a file that is no SQLite database', async () => {
    const file = await legacySqlite();
    const full = readFileSync(path.join(backups, file));
    writeFileSync(path.join(backups, file), full.subarray(0, full.length - 20));
    const truncated = await run('check-legacy', file);
    expect(truncated.exitCode).toBe(1);
    expect(truncated.stdout).toContain(`legacy backup ${file} fails its decompression test`);
    await execa('sh', ['-c', 'head -c 8192 /dev/urandom | gzip -c > "$1"', 'sh', path.join(backups, file)]);
    const garbage = await run('check-legacy', file);
    expect(garbage.exitCode).toBe(1);
    expect(garbage.stdout).toContain(`legacy backup ${file} fails quick_check`);
  });

  it('checks a MySQL dump for its completion line', async () => {
    const file = `mysql/mysql_${STAMP}.sql.gz`;
    const dump = '-- MariaDB dump\nCREATE TABLE torrents (id int);\n';
    await execa('sh', ['-c', 'printf "%s" "$1" | gzip -c > "$2"', 'sh', dump, path.join(backups, file)]);
    const cut = await run('check-legacy', file);
    expect(cut.exitCode).toBe(1);
    expect(cut.stdout).toContain(`legacy backup ${file} has no completion line`);
    await execa('sh', ['-c', 'printf "%s-- Dump completed on 2026-02-01  3:00:01\\n" "$1" | gzip -c > "$2"', 'sh', dump, path.join(backups, file)]);
    const complete = await run('check-legacy', file);
    expect(complete.exitCode, complete.stdout + complete.stderr).toBe(0);
    expect(complete.stdout).toContain(`Check of legacy backup ${file}: dump completion line present`);
  });

  it('checks that a config archive holds only data/storage/ paths', async () => {
    const good = await run('check-legacy', await legacyConfig());
    expect(good.exitCode, good.stdout + good.stderr).toBe(0);
    expect(good.stdout).toContain('archive lists 1 path(s), all under data/storage/');
    const ours = await run('check-legacy', await legacyConfig('s,^,,'));
    expect(ours.exitCode).toBe(1);
    expect(ours.stdout).toContain('holds paths outside data/storage/');
  });

  it('restore-config --legacy puts data/storage/... back at storage/..., creating no data/ directory', async () => {
    const file = await legacyConfig();
    writeFileSync(path.join(data, 'storage/tracker/etc/tracker.toml'), '[changed]\n');
    const result = await run('restore-config', file, '--legacy');
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(readFileSync(path.join(data, 'storage/tracker/etc/tracker.toml'), 'utf8')).toBe('[core]\n');
    expect(readdirSync(data)).toEqual(['storage']);
  });

  it('restore-config --legacy refuses an archive of ours (paths not under data/storage/)', async () => {
    const result = await run('restore-config', await legacyConfig('s,^,,'), '--legacy');
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('is not a legacy archive');
  });
});
