// Taking over a host laid out as the Torrust Tracker Deployer v0.1.0 leaves it with backups
// enabled (scripts/sandbox.sh up --layout deployer, SQLite): its compose file with
// x-defaults, container_name and its own backup service, its sourced 0644 backup.conf,
// cron file, maintenance script, 0644 log, and legacy backups without manifests, two of
// them older than the 7-day retention.
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, envVariant, onTarget, sandboxDown, sandboxUp, type Sandbox, trackerRunning, mysqlOf } from './sandbox.js';

let sandbox: Sandbox | undefined;
/** The deployer's database backups before the takeover, oldest first (20, 10, 3, 1 days old). */
let legacy: string[] = [];
let provision: { exitCode: number; stdout: string } = { exitCode: -1, stdout: '' };

function box(): Sandbox {
  if (!sandbox) throw new Error('sandbox was not created');
  return sandbox;
}

async function sh(script: string): Promise<string> {
  const run = await onTarget(box(), script);
  expect(run.exitCode, run.stderr).toBe(0);
  return run.stdout.trim();
}

beforeAll(async () => {
  sandbox = await sandboxUp('deployer', ['--layout', 'deployer']);
});

afterAll(async () => {
  await sandboxDown(sandbox);
});

describe('a host as the deployer leaves it', () => {
  it('has the deployer layout before provisioning', async () => {
    expect(await sh('grep -c "^x-defaults: &defaults" docker-compose.yml')).toBe('1');
    expect(await sh('grep -c "container_name:" docker-compose.yml')).toBe('2');
    expect(await sh('grep -c "/etc/backup/backup.conf:ro" docker-compose.yml')).toBe('1');
    expect(await sh('stat -c %a storage/backup/etc/backup.conf')).toBe('644');
    expect(await sh('grep -c "^DB_TYPE=sqlite" storage/backup/etc/backup.conf')).toBe('1');
    expect(await sh('grep -c "^SHELL=/bin/bash" /etc/cron.d/tracker-backup')).toBe('1');
    expect(await sh('stat -c %a /var/log/tracker-backup.log')).toBe('644');
    expect(await sh('find storage/backup -name "manifest_*" | wc -l')).toBe('0');
    legacy = (await sh('ls storage/backup/sqlite')).split('\n').sort();
    expect(legacy).toHaveLength(4);
    for (const name of legacy) expect(name).toMatch(/^sqlite_\d{8}_030000\.db\.gz$/);
  });
});

describe('provision takes it over', () => {
  beforeAll(async () => {
    provision = await cli(['provision', '--env', box().envFile], box());
  });

  it('succeeds', () => {
    expect(provision.exitCode).toBe(0);
  });

  it('replaces the sourced 0644 backup.conf with its own, root-written and readable by the deploy group only, read as data', async () => {
    expect(await sh('stat -c "%a %U %G" storage/backup/etc/backup.conf')).toBe('640 root torrust');
    expect(await sh('grep -c "^DB_TYPE=" storage/backup/etc/backup.conf || true')).toBe('0');
    expect(await sh('grep -c "^DATABASE_DRIVER=sqlite3" storage/backup/etc/backup.conf')).toBe('1');
  });

  it('fixes the old log\'s mode and keeps its lines', async () => {
    // World-readable before; now root's, readable by the deploy user's group (the guide's `tail` runs as that user).
    expect(await sh('stat -c "%a %U %G" /var/log/tracker-backup.log')).toBe('640 root torrust');
    expect(await sh('grep -c "Starting backup maintenance" /var/log/tracker-backup.log')).toBe('1');
  });

  it('takes an initial backup although the host already had (legacy) backups', async () => {
    expect(provision.stdout).toMatch(/backup created: .*\/storage\/backup\/sqlite\/sqlite_\d{8}_\d{6}\.db\.gz/);
    expect(await sh('ls storage/backup/manifests | wc -l')).toBe('1');
  });

  it('counts legacy backups by the stamp in their name: the two older than 7 days are deleted', async () => {
    const now = (await sh('ls storage/backup/sqlite')).split('\n').sort();
    expect(now).not.toContain(legacy[0]);
    expect(now).not.toContain(legacy[1]);
    expect(now).toContain(legacy[2]);
    expect(now).toContain(legacy[3]);
    const log = await sh('cat /var/log/tracker-backup.log');
    expect(log).toContain(`Retention: deleted ${legacy[0]} (20 days old)`);
    expect(log).toContain(`Retention: deleted ${legacy[1]} (10 days old)`);
  });

  it('keeps the deployer\'s backup service working as ours: container_name, tty and its volumes do not get in the way', async () => {
    const config = await sh('docker-compose --profile backup config');
    // compose v1 and v2 order the service's keys differently.
    expect(config).toMatch(/\n {4}command:\n\s+- all/);
    // The deployer's own mounts stay; v1 prints them short, v2 long.
    expect(config).toMatch(/\/etc\/backup\/backup\.conf:ro|target: \/etc\/backup\/backup\.conf\n\s+read_only: true/);
    // The deployer's x-defaults give every service tty: true; ours turns it off for backup
    // (v1 prints `tty: false`, v2 leaves a false value out).
    const backupService = /\n {2}backup:\n((?: {4,}.*\n)*)/.exec(config)?.[1] ?? '';
    expect(backupService).toContain('image: tracker-backup:');
    expect(backupService).not.toContain('tty: true');
    // The guide's manual command, with the deployer's container_name still set.
    const run = await onTarget(box(), 'docker-compose --profile backup run --rm -T backup prune 2>&1');
    expect(run.exitCode, run.stdout).toBe(0);
  });
});

describe('legacy backups after the takeover', () => {
  it('backups lists them as legacy (no manifest), ours as verified', async () => {
    const run = await cli(['backups', '--env', box().envFile], box());
    expect(run.exitCode).toBe(0);
    const stamp = (name: string) => /sqlite_(\d{8}_\d{6})/.exec(name)?.[1] ?? '';
    expect(run.stdout).toMatch(new RegExp(`${stamp(legacy[2] ?? '')} .* legacy \\(no manifest\\)  sqlite/${legacy[2]}`));
    expect(run.stdout).toMatch(new RegExp(`${stamp(legacy[3] ?? '')} .* legacy \\(no manifest\\)  sqlite/${legacy[3]}`));
    expect(run.stdout).toMatch(/verified {2}sqlite\/sqlite_\d{8}_\d{6}\.db\.gz/);
  });

  it('restores one after the checks that need no manifest, listed in the plan', async () => {
    const stamp = /sqlite_(\d{8}_\d{6})/.exec(legacy[2] ?? '')?.[1] ?? '';
    const plan = await cli(['restore', '--env', box().envFile, '--at', stamp], box());
    expect(plan.exitCode).toBe(0);
    expect(plan.stdout).toContain(`Backup ${stamp} has no manifest (a legacy backup, not taken by this tool)`);
    expect(plan.stdout).toContain(
      `Checks run on legacy backup ${stamp} (no checksum, no manifest): sqlite/sqlite_${stamp}.db.gz: decompression test, SQLite quick_check; config/config_${stamp}.tar.gz: decompression test, archive paths under data/storage/`,
    );
    expect(plan.stdout).toContain('Would extract config/config_' + stamp + '.tar.gz over: storage/tracker/etc/tracker.toml');
    const restore = await cli(['restore', '--env', box().envFile, '--at', stamp, '--yes'], box());
    expect(restore.exitCode).toBe(0);
    expect(restore.stdout).toContain(`Restored SQLite database storage/tracker/lib/database/tracker.db from sqlite_${stamp}.db.gz`);
    expect(restore.stdout).toContain(`Restored config files from config_${stamp}.tar.gz`);
    expect(restore.stdout).toContain(`Restored backup ${stamp}`);
    // The deployer's data/storage/... paths went back to storage/..., not into a data/ directory.
    expect(await sh('test ! -e data && echo absent')).toBe('absent');
    expect(await trackerRunning(box())).toBe(true);
  });
});

describe('again, and with a broken compose project', () => {
  it('a second provision reports changed=0', async () => {
    const run = await cli(['provision', '--env', box().envFile], box());
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/ok=\d+ changed=0 failed=0/);
  });

  it('an operator compose file compose rejects: provision fails with compose\'s error, .env and our service file unchanged', async () => {
    const before = await sh('sha256sum .env docker-compose.backup.yml');
    writeFileSync(`${box().deployDir}/docker-compose.broken.yml`, 'services:\n  backup:\n    volumes: "not a list"\n');
    const broken = envVariant(box(), 'broken-compose', (env) => {
      env.backup.compose_files = ['docker-compose.yml', 'docker-compose.broken.yml'];
    });
    // A dry run checks the same way.
    const dry = await cli(['provision', '--env', broken, '--check'], box());
    expect(dry.exitCode).toBe(1);
    // compose's own words, v1: "services.backup.volumes contains an invalid type", v2: "cannot override services.backup.volumes".
    expect(dry.stdout).toMatch(/compose said: .*services\.backup\.volumes/);
    const run = await cli(['provision', '--env', broken], box());
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain('compose rejects the configuration');
    expect(run.stdout).toMatch(/compose said: .*services\.backup\.volumes/);
    expect(await sh('sha256sum .env docker-compose.backup.yml')).toBe(before);
    expect(await sh('grep -c broken .env || true')).toBe('0');
  });
});

// The MySQL variant: the deployer's backup.conf holds the database password, world-readable.
describe('a MySQL host as the deployer leaves it', () => {
  let mysql: Sandbox | undefined;
  let legacyDump = '';

  function my(): Sandbox {
    if (!mysql) throw new Error('mysql sandbox was not created');
    return mysql;
  }

  /** Files under the deploy directory or /var/log that every user may read and that hold the password. */
  async function worldReadableWithPassword(): Promise<string[]> {
    const password = Buffer.from(mysqlOf(my().env).password, 'utf8').toString('base64');
    const run = await onTarget(
      my(),
      `pw="$(printf %s ${password} | base64 -d)"\nfind ${my().deployDir} /var/log -xdev -type f -perm -o+r -print0 | xargs -0 -r grep -lF -e "$pw" || true`,
    );
    expect(run.exitCode, run.stderr).toBe(0);
    return run.stdout.split('\n').filter((line) => line.length > 0);
  }

  beforeAll(async () => {
    mysql = await sandboxUp('deployer-mysql', ['--layout', 'deployer', '--driver', 'mysql']);
  });

  afterAll(async () => {
    await sandboxDown(mysql);
  });

  it('before: the sourced backup.conf holds the password, readable by everyone', async () => {
    expect(await worldReadableWithPassword()).toEqual([`${my().deployDir}/storage/backup/etc/backup.conf`]);
    const dumps = (await onTarget(my(), 'ls storage/backup/mysql')).stdout.split('\n').sort();
    expect(dumps).toHaveLength(4);
    legacyDump = dumps[3] ?? '';
  });

  it('after provision no world-readable file under the deploy directory or /var/log holds it', async () => {
    const run = await cli(['provision', '--env', my().envFile], my());
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/backup created: .*\/storage\/backup\/mysql\/mysql_\d{8}_\d{6}\.sql\.gz/);
    expect(await worldReadableWithPassword()).toEqual([]);
    const conf = await onTarget(my(), 'stat -c %a storage/backup/etc/backup.conf; grep -c "^DB_PASSWORD" storage/backup/etc/backup.conf || true');
    expect(conf.stdout.trim().split('\n')).toEqual(['640', '0']);
  });

  it('restores a legacy dump after checking its completion line', async () => {
    const stamp = /mysql_(\d{8}_\d{6})/.exec(legacyDump)?.[1] ?? '';
    const restore = await cli(['restore', '--env', my().envFile, '--at', stamp, '--only', 'database', '--yes'], my());
    expect(restore.exitCode).toBe(0);
    expect(restore.stdout).toContain(`Checks run on legacy backup ${stamp} (no checksum, no manifest): mysql/mysql_${stamp}.sql.gz: decompression test, dump completion line`);
    expect(restore.stdout).toContain(`Restored MySQL database torrust_tracker from mysql_${stamp}.sql.gz`);
  });
});
