// The host program (roles/tracker_backup/files/tracker-backup) run with bash outside any
// container, laid out as the role installs it (bin/tracker-backup next to
// lib/tracker-backup/), on a store written by the real backup.sh (sqlite3, gzip, tar).
// Its --json documents are checked against schemas/host/*.schema.json, and the CLI's
// formatter is fed what the program really printed. The same commands over SSH on a
// sandbox target are in test/e2e/restore.test.ts ('the host program').
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { beforeEach, describe, expect, it } from 'vitest';
import { formatListing, hostBackups } from '../../src/ansible/listing.js';
import { hostSchemaProblems } from '../host-schema.js';
import { ROOT } from '../helpers.js';

const FILES = path.join(ROOT, 'roles/tracker_backup/files');
const STAMP = '20260210_030000';
const DATABASE = 'storage/tracker/lib/database/tracker.db';

/** backup.conf as the role's template writes it for SQLite. */
const CONF: Record<string, string> = {
  TRACKER_SERVICE: 'tracker',
  DATABASE_DRIVER: 'sqlite3',
  SQLITE_PATH: DATABASE,
  MYSQL_HOST: 'mysql',
  MYSQL_PORT: '3306',
  MYSQL_DATABASE: 'torrust_tracker',
  MYSQL_USER: 'tracker_user',
  RETENTION_DAYS: '7',
  MODE: 'stop',
  COMPRESSION: 'gzip',
  TIMEOUT_SECONDS: '3600',
  STOP_TIMEOUT: '10',
  STOP_SIGNAL: 'SIGINT',
  METRICS_DIR: '/nonexistent/metrics',
  BACKUP_GID: '0',
  OFFSITE_KEEP_DAILY: '7',
  OFFSITE_KEEP_WEEKLY: '4',
  OFFSITE_KEEP_MONTHLY: '6',
  OFFSITE_CHECK_EVERY_DAYS: '7',
  OFFSITE_CHECK_SUBSET: '5%',
  OFFSITE_HOST: 'tracker-host',
};

let root: string;
let deploy: string;
let store: string;

function writeConf(values: Record<string, string | undefined>): void {
  const lines = Object.entries(values)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([key, value]) => `${key}=${value}\n`);
  writeFileSync(path.join(store, 'etc/backup.conf'), `# written by the test\n${lines.join('')}`);
}

async function program(...args: string[]) {
  return execa('bash', [path.join(root, 'bin/tracker-backup'), ...args], { cwd: deploy, reject: false });
}

/** One run of the container's finish step on a staged copy, as `run` has it do. */
async function backup(stamp = STAMP) {
  const env = { TRACKER_BACKUP_BACKUPS_DIR: store, TRACKER_BACKUP_DATA_DIR: deploy, TRACKER_BACKUP_NOW: '1770692400', BACKUP_STAMP: stamp };
  const result = await execa('bash', [path.join(FILES, 'lib/backup.sh'), 'all'], { env, reject: false });
  expect(result.exitCode, result.stdout + result.stderr).toBe(0);
}

function parse(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout) as Record<string, unknown>;
}

beforeEach(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'tb-program-'));
  mkdirSync(path.join(root, 'bin'));
  mkdirSync(path.join(root, 'lib'));
  symlinkSync(path.join(FILES, 'tracker-backup'), path.join(root, 'bin/tracker-backup'));
  symlinkSync(path.join(FILES, 'lib'), path.join(root, 'lib/tracker-backup'));
  deploy = path.join(root, 'deploy');
  store = path.join(deploy, 'storage/backup');
  for (const dir of ['etc', 'sqlite', 'mysql', 'config', 'manifests']) mkdirSync(path.join(store, dir), { recursive: true });
  mkdirSync(path.join(deploy, 'storage/tracker/lib/database'), { recursive: true });
  mkdirSync(path.join(deploy, 'storage/tracker/etc'), { recursive: true });
  writeFileSync(path.join(deploy, 'storage/tracker/etc/tracker.toml'), '[core]\n');
  writeFileSync(path.join(store, 'etc/backup-paths.txt'), 'storage/tracker/etc/tracker.toml\n');
  writeConf(CONF);
  await execa('sqlite3', [path.join(deploy, DATABASE), "CREATE TABLE torrents(id INTEGER PRIMARY KEY, info_hash TEXT); INSERT INTO torrents(info_hash) VALUES ('a');"]);
  return () => rmSync(root, { recursive: true, force: true });
});

describe('tracker-backup list', () => {
  it('--json: one document (tracker-backup.list.v1) with every backup, its verdict and the last run', async () => {
    await backup();
    // The deployer's own backup: no manifest lists it.
    writeFileSync(path.join(store, 'sqlite/sqlite_20260101_030000.db.gz'), 'legacy');
    // Not backups: a foreign file, a hidden partial file.
    writeFileSync(path.join(store, 'sqlite/notes.txt'), 'x');
    writeFileSync(path.join(store, 'sqlite/.sqlite_20260210_040000.db.gz.partial'), 'x');
    writeFileSync(path.join(store, 'status.json'), JSON.stringify({ started: '2026-02-10T03:00:00Z', finished: '2026-02-10T03:00:05Z', stamp: STAMP, mode: 'stop', result: 'success', exit_code: 0, tracker_downtime_seconds: 0.4, files: [] }));
    const run = await program('list', '--json');
    expect(run.exitCode, run.stderr).toBe(0);
    const doc = parse(run.stdout);
    expect(hostSchemaProblems('list.v1.schema.json', doc)).toEqual([]);
    const backups = doc.backups as { path: string; checksum: string; taken_at: string; bytes: number }[];
    expect(backups.map((b) => [b.path, b.checksum])).toEqual([
      ['sqlite/sqlite_20260101_030000.db.gz', 'legacy'],
      [`sqlite/sqlite_${STAMP}.db.gz`, 'verified'],
      [`config/config_${STAMP}.tar.gz`, 'verified'],
    ]);
    expect(backups[1]?.taken_at).toBe('2026-02-10T03:00:00Z');
    expect(backups[0]?.bytes).toBe(6);
    expect((doc.last_run as { result: string }).result).toBe('success');
    expect(doc.store).toBe(store);
  });

  it('flags a file that no longer matches its manifest as mismatch', async () => {
    await backup();
    appendFileSync(path.join(store, `config/config_${STAMP}.tar.gz`), 'x');
    const doc = parse((await program('list', '--json')).stdout);
    expect((doc.backups as { path: string; checksum: string }[]).find((b) => b.path.startsWith('config/'))?.checksum).toBe('mismatch');
  });

  it('the CLI formats what the program printed, as `backups` shows it', async () => {
    await backup();
    const listing = hostBackups(parse((await program('list', '--json')).stdout));
    const text = formatListing('host-a', listing, new Date('2026-02-11T03:00:00Z'));
    expect(text).toMatch(new RegExp(`^host-a:\\n {2}sqlite:\\n {4}${STAMP} {4}24h +\\d+ B {2}verified {2}sqlite/sqlite_${STAMP}\\.db\\.gz\\n {2}config:\\n`));
    expect(text).toContain('  last run: none recorded');
  });

  it('text output for people: one line per backup, and "no backups" on an empty store', async () => {
    expect((await program('list')).stdout).toBe(`no backups in ${store}\nlast run: none recorded`);
    await backup();
    expect((await program('list')).stdout).toMatch(new RegExp(`^sqlite:\\n {2}${STAMP} +\\d+ B {2}verified {2}sqlite/sqlite_${STAMP}\\.db\\.gz\\n`));
  });
});

describe('tracker-backup verify', () => {
  it('exits 0 when every backup matches its manifest; --json validates', async () => {
    await backup();
    const run = await program('verify', '--json');
    expect(run.exitCode, run.stderr).toBe(0);
    const doc = parse(run.stdout);
    expect(hostSchemaProblems('verify.v1.schema.json', doc)).toEqual([]);
    expect(doc).toMatchObject({ ok: true, checked: 2, failed: 0, at: null });
  });

  it('exits 1 on a changed file (mismatch) and on a file its manifest lists but the store lost (missing)', async () => {
    await backup();
    await backup('20260209_030000');
    appendFileSync(path.join(store, `config/config_${STAMP}.tar.gz`), 'x');
    rmSync(path.join(store, 'sqlite/sqlite_20260209_030000.db.gz'));
    const run = await program('verify', '--json');
    expect(run.exitCode).toBe(1);
    const doc = parse(run.stdout);
    expect(hostSchemaProblems('verify.v1.schema.json', doc)).toEqual([]);
    const verdicts = Object.fromEntries((doc.backups as { path: string; checksum: string }[]).map((b) => [b.path, b.checksum]));
    expect(verdicts).toMatchObject({ [`config/config_${STAMP}.tar.gz`]: 'mismatch', 'sqlite/sqlite_20260209_030000.db.gz': 'missing', [`sqlite/sqlite_${STAMP}.db.gz`]: 'verified' });
    expect(doc).toMatchObject({ ok: false, failed: 2 });
    // --at checks one run only: the other one's damage does not count.
    const one = await program('verify', '--at', '20260209_030000');
    expect(one.exitCode).toBe(1);
    expect(one.stdout).toContain('missing   sqlite/sqlite_20260209_030000.db.gz');
    expect(one.stdout).not.toContain(STAMP);
  });

  it('--at a stamp with no backup exits 1; a malformed one is a usage error (2)', async () => {
    await backup();
    const none = await program('verify', '--at', '20200101_000000');
    expect(none.exitCode).toBe(1);
    expect(none.stdout).toContain('ERROR: no backup with stamp 20200101_000000');
    expect((await program('verify', '--at', 'yesterday')).exitCode).toBe(2);
  });
});

describe('tracker-backup status', () => {
  it('--json: null before any run, the recorded run after, null (with a warning) for a damaged file', async () => {
    const none = await program('status', '--json');
    expect(none.exitCode).toBe(0);
    expect(parse(none.stdout)).toEqual({ schema: 'tracker-backup.status.v1', last_run: null });
    const status = { started: '2026-02-10T03:00:00Z', finished: '2026-02-10T03:00:05Z', stamp: STAMP, mode: 'stop', result: 'failed', exit_code: 1, tracker_downtime_seconds: 1.2, files: [] };
    writeFileSync(path.join(store, 'status.json'), JSON.stringify(status));
    const some = parse((await program('status', '--json')).stdout);
    expect(hostSchemaProblems('status.v1.schema.json', some)).toEqual([]);
    expect(some.last_run).toEqual(status);
    expect((await program('status')).stdout).toContain('last run: failed (exit code 1) at 2026-02-10T03:00:05Z, tracker down 1.2s');
    writeFileSync(path.join(store, 'status.json'), '{"started": "2026-02-10T03:0');
    const damaged = await program('status', '--json');
    expect(parse(damaged.stdout).last_run).toBeNull();
    expect(damaged.stderr).toContain('status.json is not a JSON object');
  });
});

describe('tracker-backup run --json', () => {
  it('another run holding the lock: exit 75, log on stderr, one document (result busy) on stdout', async () => {
    const holder = execa('bash', ['-c', 'exec 9>>"$1"; flock 9; echo held; exec sleep 30', 'holder', path.join(store, 'etc/maintenance.lock')], { reject: false });
    await new Promise<void>((resolve) => holder.stdout?.once('data', () => resolve()));
    try {
      const run = await program('run', '--json');
      expect(run.exitCode).toBe(75);
      expect(run.stderr).toContain('ERROR: Another backup is already running');
      expect(run.stderr).toContain('Backup maintenance completed (exit code: 75)');
      const doc = parse(run.stdout);
      expect(hostSchemaProblems('run.v1.schema.json', doc)).toEqual([]);
      expect(doc).toMatchObject({ schema: 'tracker-backup.run.v1', result: 'busy', exit_code: 75, files: [] });
      // Not this run's to write.
      expect(existsSync(path.join(store, 'status.json'))).toBe(false);
    } finally {
      holder.kill();
      await holder;
    }
  });
});

describe('backup.conf is checked against settings.tsv before anything is done', () => {
  it.each([
    ['RETENTION_DAYS', '366', "RETENTION_DAYS must be a whole number from 1 to 365, not '366'"],
    ['RETENTION_DAYS', '0', "RETENTION_DAYS must be a whole number from 1 to 365, not '0'"],
    ['RETENTION_DAYS', '07', "RETENTION_DAYS must be a whole number from 1 to 365, not '07'"],
    ['MYSQL_PORT', '99999999999999999999', "MYSQL_PORT must be a whole number from 1 to 65535, not '99999999999999999999'"],
    ['TIMEOUT_SECONDS', '3600; reboot', "TIMEOUT_SECONDS must be a whole number from 10 to 86400, not '3600; reboot'"],
    ['MODE', 'fast', "MODE must be one of stop online, not 'fast'"],
    ['COMPRESSION', 'gzip|zstd', "COMPRESSION must be one of gzip zstd, not 'gzip|zstd'"],
    ['STOP_SIGNAL', 'SIGKILL', "STOP_SIGNAL must be one of SIGINT SIGTERM SIGQUIT SIGHUP SIGUSR1 SIGUSR2, not 'SIGKILL'"],
    ['SQLITE_PATH', '../../etc/shadow', "SQLITE_PATH must be a relative path without a .. component or control characters, not '../../etc/shadow'"],
    ['SQLITE_PATH', '/etc/shadow', "SQLITE_PATH must be a relative path without a .. component or control characters, not '/etc/shadow'"],
    ['SQLITE_PATH', 'storage/a/../../x', "SQLITE_PATH must be a relative path without a .. component or control characters, not 'storage/a/../../x'"],
    ['TRACKER_SERVICE', 'tracker\u001b[2J', "TRACKER_SERVICE must be non-empty text without control characters, not 'tracker\\x1b[2J'"],
    ['MYSQL_HOST', '', "MYSQL_HOST must be non-empty text without control characters, not ''"],
  ])('%s=%j: one ERROR line naming it, exit 1, nothing touched', async (key, value, message) => {
    writeConf({ ...CONF, [key]: value });
    for (const command of ['list', 'verify', 'status']) {
      const run = await program(command, '--json');
      expect(run.exitCode).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^\\[[-0-9: ]{19}\\] ERROR: ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(in ${store}/etc/backup\\.conf; nothing was done\\)$`))]);
    }
    const run = await program('run');
    expect(run.exitCode).toBe(1);
    expect(run.stdout.trim().split('\n').filter((line) => line.includes('ERROR'))).toEqual([expect.stringContaining(`ERROR: ${message}`)]);
    expect(run.stdout).toContain('Backup maintenance completed (exit code: 1)');
    // Refused before the lock, so before the tracker: no lock file, no status.
    expect(existsSync(path.join(store, 'etc/maintenance.lock'))).toBe(false);
    expect(existsSync(path.join(store, 'status.json'))).toBe(false);
  });

  it('a missing key and an unknown key are refused by name', async () => {
    writeConf({ ...CONF, MYSQL_USER: undefined });
    expect((await program('list')).stdout).toMatch(/ERROR: MYSQL_USER is missing \(in .*backup\.conf; nothing was done\); it must be non-empty text without control characters$/);
    writeConf({ ...CONF, PASSWORD: 'x' });
    expect((await program('list')).stdout).toMatch(/ERROR: PASSWORD is not a setting of backup\.conf \(in .*; nothing was done\); the settings are: (?=.*\bTRACKER_SERVICE\b)(?=.*\bDATABASE_DRIVER\b).*\bBACKUP_GID$/);
  });

  it('every key the role template writes is in the spec, and the role defaults pass it', async () => {
    const template = readFileSync(path.join(ROOT, 'roles/tracker_backup/templates/backup.conf.j2'), 'utf8');
    const spec = readFileSync(path.join(FILES, 'lib/settings.tsv'), 'utf8');
    const keys = (text: RegExp, source: string) => [...source.matchAll(text)].map((m) => m[1]).sort();
    expect(keys(/^([A-Z_]+)=/gm, template)).toEqual(keys(/^([A-Z_]+)\t/gm, spec));
    expect(keys(/^([A-Z_]+)\t/gm, spec)).toEqual(Object.keys(CONF).sort());
    expect((await program('list')).exitCode).toBe(0);
  });
});

describe('usage', () => {
  it('an unknown command or flag exits 2 with the usage', async () => {
    for (const args of [['backup'], [], ['list', '--jsno']]) {
      const run = await program(...args);
      expect(run.exitCode).toBe(2);
      expect(run.stderr).toContain('tracker-backup: the host\'s one command');
    }
  });
});

describe('json_str', () => {
  it.each([
    ['plain', 'sqlite/sqlite_20260210_030000.db.gz'],
    ['quotes and backslashes', 'a "quoted" \\path\\ \\"'],
    ['control characters', 'tab\there\nnew line\r\u0001\u001f\u001b[0m end'],
    ['non-ASCII', 'Größe – 数据库 😀'],
    ['empty', ''],
  ])('%s round-trips through JSON.parse', async (_name, value) => {
    const run = await execa('bash', ['-c', `source "${FILES}/lib/store.sh"; json_str "$1"`, 'json', value]);
    expect(JSON.parse(run.stdout)).toBe(value);
  });
});
