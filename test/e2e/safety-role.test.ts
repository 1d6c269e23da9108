// The role's safety promises on one real sandbox target (SQLite): a second deployment's
// schedule is never taken over, no secret from .env reaches the output (--check prints
// diffs), plain ansible-playbook with a string "false" restores nothing, and --from-dir
// uploads backup files only, never the host's etc/.
import { execa } from 'execa';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, onTarget, sandboxDown, sandboxUp, type Sandbox } from './sandbox.js';

let sandbox: Sandbox | undefined;
/** Only ever written to the target's .env; it must never be printed. */
const SECRET = 'tb-dotenv-secret-7Qx2Lm9';
const OTHER_DIR = '/opt/other-tracker';
/** The backup the restore tests use, taken with the tracker stopped. */
let stamp = '';

function target(): Sandbox {
  if (!sandbox) throw new Error('sandbox was not created');
  return sandbox;
}

const dbPath = () => `${target().deployDir}/storage/tracker/lib/database/tracker.db`;
const storage = () => `${target().deployDir}/storage/backup`;

async function sha(file: string): Promise<string> {
  return (await execa('sha256sum', [file])).stdout.split(' ')[0] ?? '';
}

async function tracker(action: 'stop' | 'start'): Promise<void> {
  await onTarget(target(), `docker-compose ${action} tracker >/dev/null 2>&1`);
}

async function sqliteBackups(): Promise<string> {
  return (await onTarget(target(), 'ls -1 storage/backup/sqlite')).stdout;
}

/** Plain ansible-playbook in the project the CLI rendered, as the README shows it. */
async function plainPlaybook(playbook: string, ...extra: string[]) {
  const project = path.join(target().work, 'ansible');
  const result = await execa('ansible-playbook', [playbook, ...extra], {
    cwd: project,
    env: { ANSIBLE_CONFIG: path.join(project, 'ansible.cfg'), ANSIBLE_NOCOLOR: '1' },
    reject: false,
    all: true,
  });
  process.stdout.write(result.all ?? '');
  return result;
}

beforeAll(async () => {
  sandbox = await sandboxUp('safety');
  // What a real deployment's .env holds beside COMPOSE_PROJECT_NAME.
  appendFileSync(path.join(target().deployDir, '.env'), `MYSQL_ROOT_PASSWORD=${SECRET}\nTRACKER_API_ADMIN_TOKEN=${SECRET}-admin\n`);
});

afterAll(async () => {
  await sandboxDown(sandbox);
});

describe('one deployment per host', () => {
  it('refuses to provision when the host already schedules backups for another deploy dir, and changes nothing', async () => {
    const planted = `# Backup Maintenance Schedule\n0 3 * * * root cd ${OTHER_DIR} && /usr/local/bin/maintenance-backup.sh >> /var/log/tracker-backup.log 2>&1\n`;
    writeFileSync(path.join(target().work, 'other.cron'), planted);
    await onTarget(target(), `printf '%s' '${planted}' > /etc/cron.d/tracker-backup`);
    const state = 'sha256sum /etc/cron.d/tracker-backup .env; ls -A . /etc/cron.d /usr/local/bin; ls /usr/local/lib/tracker-backup 2>&1 || true';
    const before = await onTarget(target(), state);
    expect(before.stdout).toContain('tracker-backup');
    try {
      for (const flags of [['--check'], []]) {
        const run = await cli(['provision', '--env', target().envFile, ...flags], target());
        expect(run.exitCode, `provision ${flags.join(' ')}`).toBe(1);
        expect(run.stdout).toContain(`this host already schedules backups for ${OTHER_DIR}`);
        expect(run.stdout).toContain('one deployment per host is supported');
        expect((await onTarget(target(), state)).stdout).toBe(before.stdout);
      }
      expect((await onTarget(target(), 'cat /etc/cron.d/tracker-backup')).stdout).toBe(planted.trimEnd());
      expect((await onTarget(target(), 'test ! -e storage/backup && test ! -e /usr/local/bin/maintenance-backup.sh')).exitCode).toBe(0);
    } finally {
      await onTarget(target(), 'rm -f /etc/cron.d/tracker-backup');
    }
  });
});

describe('secrets in .env', () => {
  it('provision --check shows its diffs without a line of .env', async () => {
    // Without the line the role adds, --check has a change to show in .env.
    await onTarget(target(), "sed -i '/^COMPOSE_FILE=/d' .env");
    const run = await cli(['provision', '--env', target().envFile, '--check'], target());
    expect(run.exitCode).toBe(0);
    // Diffs were on (the cron entry's is shown), so a .env diff would have been printed.
    expect(run.stdout).toContain('+++ after');
    expect(run.stdout + run.stderr).not.toContain(SECRET);
  });

  it('a real provision prints no secret either, and keeps the .env lines', async () => {
    const run = await cli(['provision', '--env', target().envFile], target());
    expect(run.exitCode).toBe(0);
    expect(run.stdout + run.stderr).not.toContain(SECRET);
    const dotenv = readFileSync(path.join(target().deployDir, '.env'), 'utf8');
    expect(dotenv).toContain(`MYSQL_ROOT_PASSWORD=${SECRET}\n`);
    expect(dotenv).toMatch(/^COMPOSE_FILE=docker-compose\.yml:docker-compose\.backup\.yml$/m);
  });
});

describe('booleans given as strings', () => {
  it('plain ansible-playbook restore.yml -e tracker_backup_restore_yes=false leaves the database byte-identical', async () => {
    await tracker('stop');
    try {
      const backup = await cli(['backup', '--env', target().envFile], target());
      expect(backup.exitCode).toBe(0);
      stamp = /created sqlite\/sqlite_(\d{8}_\d{6})\.db\.gz/.exec(backup.stdout)?.[1] ?? '';
      expect(stamp).not.toBe('');
      // A row the backup does not have: a real restore would remove it.
      await execa('sqlite3', [dbPath(), "INSERT INTO whitelist(info_hash) VALUES ('after-the-backup');"]);
      const before = await sha(dbPath());
      const backupsBefore = await sqliteBackups();

      const plan = await plainPlaybook('restore.yml', '-e', 'tracker_backup_restore_yes=false');
      expect(plan.exitCode).toBe(0);
      expect(await sha(dbPath())).toBe(before);
      expect(await sqliteBackups()).toBe(backupsBefore);

      // The same command with "true" does restore, so the check above can fail.
      const real = await plainPlaybook('restore.yml', '-e', 'tracker_backup_restore_yes=true');
      expect(real.exitCode).toBe(0);
      expect((await execa('sqlite3', [dbPath(), "SELECT count(*) FROM whitelist WHERE info_hash = 'after-the-backup';"])).stdout).toBe('0');
      expect((await sqliteBackups()).split('\n').length).toBe(backupsBefore.split('\n').length + 1);
    } finally {
      await tracker('start');
    }
  });
});

describe('restore --from-dir', () => {
  it("uploads only the backup directories' regular files and leaves the host's etc/ and status.json byte-identical", async () => {
    expect(stamp).not.toBe('');
    const fetched = mkdtempSync(path.join(tmpdir(), 'tb-safety-fetched-'));
    for (const dir of ['sqlite', 'config', 'manifests']) {
      cpSync(`${storage()}/${dir}`, path.join(fetched, dir), { recursive: true, filter: (src) => !path.basename(src).includes('_') || src.includes(stamp) });
    }
    // What else a copied-off directory may hold: the old host's settings and secrets,
    // its last status, stray files, a link and a subdirectory.
    mkdirSync(path.join(fetched, 'etc'));
    writeFileSync(path.join(fetched, 'etc/backup.conf'), 'DATABASE_DRIVER=mysql\nMYSQL_HOST=old-host\n');
    writeFileSync(path.join(fetched, 'etc/mysql-password'), 'old-host-password');
    writeFileSync(path.join(fetched, 'status.json'), '{"result":"from-the-old-host"}\n');
    writeFileSync(path.join(fetched, 'NOTES.txt'), 'copied off the old host\n');
    symlinkSync('/etc/hostname', path.join(fetched, 'sqlite/sqlite_20990101_000000.db.gz'));
    mkdirSync(path.join(fetched, 'config/nested'));
    writeFileSync(path.join(fetched, 'config/nested/extra.txt'), 'not a backup\n');

    // The host has lost this run's files; only the upload can bring them back.
    await onTarget(target(), `rm -f storage/backup/sqlite/sqlite_${stamp}.db.gz storage/backup/config/config_${stamp}.tar.gz storage/backup/manifests/manifest_${stamp}.sha256`);
    const hostState = 'cd storage/backup && ls -lA --time-style=full-iso etc && sha256sum etc/* status.json';
    const before = await onTarget(target(), hostState);
    expect(before.stdout).toContain('etc/backup.conf');

    const run = await cli(['restore', '--env', target().envFile, '--from-dir', fetched, '--at', stamp], target());
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(`Would restore sqlite/sqlite_${stamp}.db.gz`);
    expect((await onTarget(target(), hostState)).stdout).toBe(before.stdout);
    const uploaded = await onTarget(target(), 'cd storage/backup && find . | sort');
    expect(uploaded.stdout).toContain(`./sqlite/sqlite_${stamp}.db.gz`);
    expect(uploaded.stdout).toContain(`./manifests/manifest_${stamp}.sha256`);
    expect(uploaded.stdout).not.toContain('20990101');
    expect(uploaded.stdout).not.toContain('nested');
    expect(uploaded.stdout).not.toContain('NOTES.txt');
    expect(uploaded.stdout).not.toContain('mysql-password');
  });

  it('stops before the restore when the directory holds no backup files', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'tb-safety-empty-'));
    mkdirSync(path.join(empty, 'etc'));
    writeFileSync(path.join(empty, 'etc/backup.conf'), 'DATABASE_DRIVER=mysql\n');
    const run = await cli(['restore', '--env', target().envFile, '--from-dir', empty], target());
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain(`${empty} on the controller has no files in sqlite/, mysql/, config/ or manifests/`);
    expect(run.stdout).not.toContain('Restore runs (or shows its plan)');
  });
});
