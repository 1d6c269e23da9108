// The guide's "Monitoring & Verification" and "Troubleshooting" commands, run the way the
// guide runs them: over SSH as the deploy user (torrust), who is not root and, as on a
// host the Torrust Tracker Deployer built, is in the docker group. No sudo anywhere.
// `/opt/torrust` in the guide is the sandbox's deploy directory here.
//
// Left out, and why: `cat data/<env-name>/environment.json | jq ...` reads the deployer's
// own state on the operator's machine, not the host; `crontab -l` looks for a user
// crontab, while the guide's entry is the cron.d file the first section already reads;
// `docker compose ps mysql` and `docker compose exec mysql mysql -u root -p<password>` are
// for MySQL targets (this one is SQLite, and the second puts a password on a command line).
//
// The guide's `docker compose ...` runs as whichever compose the target has: `docker compose`
// when `docker compose version` works (v2), else `docker-compose` (v1; the default bookworm
// target has only that). With v2, `config` needs `--profile backup` to show the service.
//
// Real: sshd, the deploy user's login shell, the Docker daemon and compose, cron, file(1).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asDeployUser, cli, onTarget, sandboxDown, sandboxUp, type Sandbox } from './sandbox.js';

let sandbox: Sandbox | undefined;
let compose = 'docker compose';

function target(): Sandbox {
  if (!sandbox) throw new Error('sandbox was not created');
  return sandbox;
}

/** A guide command with /opt/torrust as the sandbox's deploy directory, and the target's compose. */
function guide(command: string): string {
  return command.replaceAll('/opt/torrust', target().deployDir).replaceAll('docker compose', compose);
}

/** Runs a guide command as the deploy user; it must succeed and say nothing about permissions. */
async function asTorrust(command: string, cwd = false): Promise<string> {
  const line = guide(command);
  const run = await asDeployUser(target(), cwd ? `cd ${target().deployDir} && ${line}` : line);
  expect(run.stderr, line).not.toMatch(/Permission denied|permission denied/);
  expect(run.exitCode, `${line}\n${run.stdout}\n${run.stderr}`).toBe(0);
  return run.stdout;
}

const BACKUP_FILE = (name: string) => new RegExp(`^-rw-r----- 1 root torrust .* ${name}$`, 'm');

beforeAll(async () => {
  sandbox = await sandboxUp('deployuser');
  const run = await cli(['provision', '--env', target().envFile], target());
  if (run.exitCode !== 0) throw new Error('provision failed');
  const flavour = await asDeployUser(target(), 'docker compose version >/dev/null 2>&1 && echo v2 || echo v1');
  compose = flavour.stdout.trim() === 'v2' ? 'docker compose' : 'docker-compose';
});

afterAll(async () => {
  await sandboxDown(sandbox);
});

describe('the deploy user', () => {
  it('is not root, and is in the docker group, as on a deployer-built host', async () => {
    const id = await asTorrust('id -u; id -nG');
    const [uid, groups] = id.split('\n');
    expect(uid).not.toBe('0');
    expect(groups?.split(' ')).toContain('docker');
    expect(await asTorrust('docker ps --format "{{.Names}}"')).toMatch(/tracker/);
  });
});

describe('Monitoring & Verification, as torrust', () => {
  it('Verify Initial Backup: ls -lh of sqlite/, mysql/ and config/ lists the backups', async () => {
    expect(await asTorrust('ls -lh /opt/torrust/storage/backup/sqlite/')).toMatch(BACKUP_FILE('sqlite_\\d{8}_\\d{6}\\.db\\.gz'));
    expect(await asTorrust('ls -lh /opt/torrust/storage/backup/mysql/')).toBe('total 0');
    expect(await asTorrust('ls -lh /opt/torrust/storage/backup/config/')).toMatch(BACKUP_FILE('config_\\d{8}_\\d{6}\\.tar\\.gz'));
  });

  it('Check Crontab Configuration: cat /etc/cron.d/tracker-backup', async () => {
    const cron = await asTorrust('cat /etc/cron.d/tracker-backup');
    expect(cron).toContain('# Backup Maintenance Schedule');
    expect(cron).toContain(`root cd ${target().deployDir} && /usr/local/bin/maintenance-backup.sh >> /var/log/tracker-backup.log 2>&1`);
  });

  it('Monitor Automatic Backups: tail -20 of the log shows the run, and ls -lh the files', async () => {
    const log = await asTorrust('tail -20 /var/log/tracker-backup.log');
    expect(log).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] INFO: Tracker stopped successfully$/m);
    expect(log).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] INFO: Backup completed successfully$/m);
    expect(log).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] Backup maintenance completed \(exit code: 0\)$/m);
    expect(await asTorrust('ls -lh /opt/torrust/storage/backup/sqlite/')).toMatch(BACKUP_FILE('sqlite_\\d{8}_\\d{6}\\.db\\.gz'));
  });

  it('Verify Backup Content: gunzip -c | file - says SQLite 3.x database, tar -tzf lists tracker.toml', async () => {
    expect(await asTorrust('cd /opt/torrust/storage/backup/sqlite && gunzip -c sqlite_*.db.gz | file -')).toContain('SQLite 3.x database');
    // One config archive so far (provision's initial backup): the guide's glob names one file.
    const tar = await asTorrust('tar -tzf /opt/torrust/storage/backup/config/config_*.tar.gz | head -20');
    expect(tar.split('\n')).toContain('storage/tracker/etc/tracker.toml');
    expect(tar.split('\n')).toContain('storage/prometheus/etc/prometheus.yml');
  });
});

describe('Troubleshooting, as torrust', () => {
  it('No Backup Files Created: ls -la, compose logs backup, and compose run --rm backup makes a readable backup', async () => {
    const listing = await asTorrust('ls -la /opt/torrust/storage/backup/');
    for (const dir of ['sqlite', 'mysql', 'config', 'manifests', 'etc']) {
      expect(listing).toMatch(new RegExp(`^drwxr-x--- +\\d+ root torrust .* ${dir}$`, 'm'));
    }
    expect(listing).toMatch(/^-rw-r----- 1 root torrust .* status\.json$/m);
    await asTorrust('docker compose logs backup | tail -50', true);

    const before = (await asTorrust('ls -1 /opt/torrust/storage/backup/sqlite/')).split('\n');
    const run = await asTorrust('docker compose run --rm backup', true);
    expect(run).toMatch(/INFO: Created \/backups\/sqlite\/sqlite_\d{8}_\d{6}\.db\.gz/);
    expect(run).toMatch(/INFO: Manifest manifests\/manifest_\d{8}_\d{6}\.sha256 lists 2 file\(s\)/);
    const stamp = /sqlite_(\d{8}_\d{6})\.db\.gz/.exec(run)?.[1] as string;
    expect(before).not.toContain(`sqlite_${stamp}.db.gz`);
    // What the manual run published is the deploy user's group's to read, like cron's.
    const made = await asTorrust(`ls -l /opt/torrust/storage/backup/sqlite/sqlite_${stamp}.db.gz /opt/torrust/storage/backup/config/config_${stamp}.tar.gz /opt/torrust/storage/backup/manifests/manifest_${stamp}.sha256`);
    expect(made.split('\n')).toHaveLength(3);
    for (const line of made.split('\n')) expect(line).toMatch(/^-rw-r----- 1 root torrust /);
    expect(await asTorrust(`cd /opt/torrust/storage/backup && sha256sum -c manifests/manifest_${stamp}.sha256`)).toContain(`sqlite/sqlite_${stamp}.db.gz: OK`);
  });

  it('Backup Files Not Updating: docker ps -a, df -h', async () => {
    expect(await asTorrust('docker ps -a')).toMatch(/CONTAINER ID/);
    expect(await asTorrust('df -h /opt/torrust/storage/backup/')).toMatch(/^Filesystem/);
  });

  it('MySQL Connection Error: compose config shows the backup service', async () => {
    // Compose v2's `config` leaves out the services of profiles that are not active (v1 lists
    // them all; docker/compose#8676), and the backup service is in profile `backup` (ours and
    // the deployer's): on v2 the guide's command needs `--profile backup`.
    const profile = compose === 'docker compose' ? '--profile backup ' : '';
    const config = await asTorrust(`docker compose ${profile}config | grep -A 30 'backup:'`, true);
    expect(config).toMatch(/^ {2}backup:$/m);
    expect(config).toMatch(/\/backups/);
  });

  it('Retention Cleanup Not Running: ls -la of each backup directory, cat backup.conf', async () => {
    const listing = await asTorrust('ls -la /opt/torrust/storage/backup/*/');
    expect(listing).toMatch(BACKUP_FILE('sqlite_\\d{8}_\\d{6}\\.db\\.gz'));
    expect(listing).toMatch(BACKUP_FILE('manifest_\\d{8}_\\d{6}\\.sha256'));
    // backup.conf holds settings only; the secrets beside it stay root's.
    expect(listing).toMatch(/^-rw-r----- 1 root torrust .* backup\.conf$/m);
    expect(listing).toMatch(/^-rw------- 1 root root .* maintenance\.lock$/m);
    const conf = await asTorrust('cat /opt/torrust/storage/backup/etc/backup.conf');
    expect(conf).toMatch(/^RETENTION_DAYS=7$/m);
    expect(conf).toMatch(/^BACKUP_GID=\d+$/m);
  });
});

describe('nobody else', () => {
  it('root-only files stay closed to torrust', async () => {
    const lock = await asDeployUser(target(), guide('cat /opt/torrust/storage/backup/etc/maintenance.lock'));
    expect(lock.exitCode).not.toBe(0);
    expect(lock.stderr).toContain('Permission denied');
  });

  it('a user outside the deploy user\'s group reads neither the backups nor the log', async () => {
    const other = await onTarget(
      target(),
      `id tbother >/dev/null 2>&1 || useradd --no-create-home tbother
       # The deploy directory itself stays open to all, as the tracker's compose project is.
       sudo -u tbother ls "$PWD" >/dev/null || echo "deploy dir closed: the checks below would prove nothing"
       for dir in storage/backup storage/backup/sqlite storage/backup/etc; do
         if sudo -u tbother ls "$PWD/$dir" >/dev/null 2>&1; then echo "listable: $dir"; fi
       done
       for file in /var/log/tracker-backup.log "$PWD"/storage/backup/sqlite/sqlite_*.db.gz; do
         if sudo -u tbother head -c 1 "$file" >/dev/null 2>&1; then echo "readable: $file"; fi
       done
       find storage/backup /var/log/tracker-backup.log -perm /o=rwx -printf 'world: %p\\n'
       echo done`,
    );
    expect(other.stdout.trim()).toBe('done');
  });
});

describe('a host provisioned before', () => {
  it('provision gives older backups, manifests, status.json and the log the same group and modes', async () => {
    // What an earlier version left: root-only files and directories, the log root:adm.
    await onTarget(
      target(),
      `chgrp -R root storage/backup
       find storage/backup -type d -exec chmod 0700 {} +
       find storage/backup -type f -exec chmod 0600 {} +
       chgrp adm /var/log/tracker-backup.log`,
    );
    const closed = await asDeployUser(target(), guide('ls -lh /opt/torrust/storage/backup/sqlite/'));
    expect(closed.stderr).toContain('Permission denied');

    const run = await cli(['provision', '--env', target().envFile], target());
    expect(run.exitCode).toBe(0);
    const listing = await asTorrust('ls -la /opt/torrust/storage/backup/ /opt/torrust/storage/backup/*/');
    const files = listing.split('\n').filter((line) => line.startsWith('-'));
    expect(files.length).toBeGreaterThan(6);
    for (const line of files) {
      if (/ maintenance\.lock$| tracker-stopped-by-backup$/.test(line)) expect(line).toMatch(/^-rw------- 1 root root /);
      else expect(line).toMatch(/^-rw-r----- 1 root torrust /);
    }
    expect(await asTorrust('tail -20 /var/log/tracker-backup.log')).toContain('Backup maintenance completed (exit code: 0)');
    expect(await asTorrust('cd /opt/torrust/storage/backup/sqlite && gunzip -c sqlite_*.db.gz | file -')).toContain('SQLite 3.x database');
  });
});
