// End to end on a real target: environment file -> generated Ansible -> tracker_backup
// role over SSH -> cron entry, maintenance script, compose backup service and an initial
// SQLite backup, then cron itself firing the script.
//
// Real: ansible-playbook, sshd, the Docker daemon and compose (v1 here), cron, sqlite3.
// Stand-in: the tracker service (sandbox/tracker), because the upstream Torrust image
// cannot be pulled here; it writes to the same SQLite database the real one would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, envVariant, onTarget, sandboxDown, sandboxUp, waitFor, type Sandbox } from './sandbox.js';

let sandbox: Sandbox | undefined;
const timings: Record<string, number> = {};

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const start = Date.now();
  try {
    return await work();
  } finally {
    timings[label] = (Date.now() - start) / 1000;
  }
}

function target(): Sandbox {
  if (!sandbox) throw new Error('sandbox was not created');
  return sandbox;
}

async function count(glob: string): Promise<number> {
  const result = await onTarget(target(), `ls -1 ${glob} 2>/dev/null | wc -l`);
  return Number(result.stdout.trim());
}

/** The tasks that install or fix something on the host: on an unchanged host each is skipped. */
const INSTALL_TASKS = [
  'Backup directories are readable by that group only, and written by root only',
  'Backup configuration is written (read as data, never sourced; it holds no secret)',
  'List of configuration paths to archive is written',
  'Backup log is readable by that group only',
  'Backup scripts and image build context are installed',
  'Host program is installed',
  'Maintenance script is installed where cron runs it',
  'Restore script is installed',
  'Backup log is rotated',
  'Backup image is built from the bundled context',
  "Compose accepts the operator's files with the backup service added",
  "Backup service is defined beside the operator's compose files",
  "Compose loads the backup service file after the operator's files",
  'Backup schedule is installed',
];

/** Each task's outcome in Ansible's output: of a loop's items, the weightiest (fatal > changed > ok > skipping). */
function taskOutcomes(output: string): Map<string, string> {
  const weight = ['skipping', 'ok', 'changed', 'fatal'];
  const outcome = new Map<string, string>();
  let task = '';
  for (const line of output.split('\n')) {
    const header = /^TASK \[tracker_backup : (.*)\] \**$/.exec(line);
    if (header) task = header[1] ?? '';
    const result = /^(ok|changed|skipping|fatal): \[/.exec(line)?.[1];
    if (result && task && weight.indexOf(result) >= weight.indexOf(outcome.get(task) ?? 'skipping')) outcome.set(task, result);
  }
  return outcome;
}

const LOG_LINE = /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] /;

beforeAll(async () => {
  sandbox = await timed('sandbox up', () => sandboxUp('e2e'));
});

afterAll(async () => {
  await sandboxDown(sandbox);
  process.stdout.write(`e2e timings (s): ${JSON.stringify(timings)}\n`);
});

describe('provision against a fresh sandbox target', () => {
  it('--check on a fresh host fails on nothing and changes nothing', async () => {
    const before = await onTarget(target(), 'cat .env; ls -A; ls /etc/cron.d');
    const run = await timed('provision --check (fresh)', () => cli(['provision', '--env', target().envFile, '--check'], target()));
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('Summary (dry run, nothing was changed):');
    // A dry run on a fresh host lacks the backup directories; nothing may warn about them.
    expect(`${run.stdout}\n${run.stderr}`).not.toContain('[WARNING]');
    expect(run.stdout).toMatch(/failed=0 unreachable=0/);
    const after = await onTarget(target(), 'cat .env; ls -A; ls /etc/cron.d');
    expect(after.stdout).toBe(before.stdout);
    expect((await onTarget(target(), 'test ! -e /usr/local/bin/maintenance-backup.sh && test ! -e storage/backup')).exitCode).toBe(0);
  });

  it('an invalid environment file changes nothing on the host', async () => {
    const bad = envVariant(target(), 'bad', (env) => {
      env.backup.retention_days = 0;
    });
    const run = await cli(['provision', '--env', bad], target());
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('backup.retention_days: must be at least 1');
    expect(run.stdout).not.toContain('Running:');
    expect((await onTarget(target(), 'test ! -e /etc/cron.d/tracker-backup')).exitCode).toBe(0);
  });

  it('provision installs everything and takes the initial backup', async () => {
    const run = await timed('provision (fresh)', () => cli(['provision', '--env', target().envFile], target()));
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/backup created: .*\/storage\/backup\/sqlite\/sqlite_\d{8}_\d{6}\.db\.gz/);
    expect(run.stdout).toMatch(/hosts: 1, changed: [1-9]\d*, failed: 0/);
    expect(run.stdout).toContain('next scheduled backup: ');
  });

  it("the cron entry is exactly the guide's expected output", async () => {
    const cron = await onTarget(target(), 'cat /etc/cron.d/tracker-backup; stat -c "%a %U" /etc/cron.d/tracker-backup');
    expect(cron.stdout).toBe(
      `# Backup Maintenance Schedule\n0 3 * * * root cd ${target().deployDir} && /usr/local/bin/maintenance-backup.sh >> /var/log/tracker-backup.log 2>&1\n644 root`,
    );
  });

  it('the initial SQLite backup gunzips to a valid database holding the stand-in tracker rows', async () => {
    const check = await onTarget(
      target(),
      `cd storage/backup/sqlite && gunzip -c sqlite_*.db.gz | file -
       tmp=$(mktemp); gunzip -c "$(ls -1 sqlite_*.db.gz | tail -n 1)" > "$tmp"; sqlite3 "$tmp" 'SELECT count(*) FROM torrents'; rm -f "$tmp"`,
    );
    expect(check.exitCode, check.stderr).toBe(0);
    const [fileType, rows] = check.stdout.split('\n');
    expect(fileType).toContain('SQLite 3.x database');
    expect(Number(rows)).toBeGreaterThan(0);
  });

  it('the config archive lists tracker.toml, prometheus.yml and the Grafana provisioning files', async () => {
    const tar = await onTarget(target(), 'tar -tzf storage/backup/config/config_*.tar.gz | head -20');
    expect(tar.stdout).toContain('storage/tracker/etc/tracker.toml');
    expect(tar.stdout).toContain('storage/prometheus/etc/prometheus.yml');
    expect(tar.stdout).toContain('storage/grafana/provisioning/');
  });

  it('the log holds the guide lines, in its format, and the tracker is running again', async () => {
    const log = (await onTarget(target(), 'cat /var/log/tracker-backup.log')).stdout;
    const lines = log.split('\n').filter((l) => LOG_LINE.test(l));
    const order = [
      // v1 on Debian 12 targets, v2 on Debian 13 ones.
      process.env.TRACKER_BACKUP_SANDBOX_OS === 'trixie' ? 'INFO: Using compose v2 (docker compose 2.' : 'INFO: Using compose v1 (docker-compose 1.',
      'INFO: Tracker stopped successfully',
      // stop mode with SQLite: the copy is all that happens while the tracker is down.
      'INFO: SQLite database copied while the tracker is stopped',
      'INFO: Starting tracker container...',
      'INFO: Tracker started successfully',
      'INFO: Running backup container (via backup profile)...',
      'INFO: Backup completed successfully',
      'Backup maintenance completed (exit code: 0)',
    ];
    const positions = order.map((text) => lines.findIndex((l) => l.includes(text)));
    expect(positions.every((p) => p >= 0), log).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    const running = await onTarget(target(), 'for id in $(docker-compose ps -q tracker); do docker inspect -f "{{.State.Running}}" "$id"; done');
    expect(running.stdout.trim()).toBe('true');
  });

  it("the guide's manual command `docker compose run --rm backup` works and `up -d` leaves the service alone", async () => {
    const before = await count('storage/backup/sqlite/sqlite_*.db.gz');
    // Stamps have one-second resolution; make sure this backup gets its own.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const manual = await onTarget(target(), 'docker-compose run --rm backup');
    expect(manual.exitCode, manual.stderr).toBe(0);
    expect(manual.stdout).toMatch(/INFO: Created .*sqlite_\d{8}_\d{6}\.db\.gz/);
    expect(await count('storage/backup/sqlite/sqlite_*.db.gz')).toBe(before + 1);
    const up = await onTarget(target(), 'docker-compose up -d >/dev/null 2>&1; docker-compose ps --services --filter status=running');
    expect(up.stdout.split('\n')).not.toContain('backup');
  });

  it('a second provision reports changed=0', async () => {
    const run = await timed('provision (idempotent re-run)', () => cli(['provision', '--env', target().envFile], target()));
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/hosts: 1, changed: 0, failed: 0/);
  });

  it('on an unchanged host the second provision asks the host once and runs no install task', async () => {
    const run = await cli(['provision', '--env', target().envFile], target());
    expect(run.exitCode).toBe(0);
    const outcome = taskOutcomes(run.stdout);
    expect(outcome.get('Host state is read in one pass')).toBe('ok');
    // Skipped, or not even included: the files holding them are included only on a difference.
    for (const task of INSTALL_TASKS) expect(outcome.get(task) ?? 'not run', task).toMatch(/^(skipping|not run)$/);
    // The run phase finds the initial backup and validates nothing twice.
    expect(outcome.get('Maintenance run has taken the initial backup')).toBe('skipping');
    expect(outcome.get('Ranges of the role variables are checked')).toBe('skipping');
  });

  it('a host that drifted is put back: changed content, mode, owner, a removed file and .env line', async () => {
    const drift = await onTarget(
      target(),
      [
        'echo "# drift" | sudo tee -a /usr/local/lib/tracker-backup/lib.sh >/dev/null',
        'sudo chmod 0700 /usr/local/bin/tracker-backup',
        'sudo chown torrust /etc/logrotate.d/tracker-backup',
        'sudo rm /etc/cron.d/tracker-backup',
        'sudo chmod 0755 storage/backup/etc',
        'sudo sed -i "/^COMPOSE_FILE=/d" .env',
        'echo "# drift" | sudo tee -a storage/backup/etc/backup.conf >/dev/null',
      ].join(' && '),
    );
    expect(drift.exitCode, drift.stderr).toBe(0);
    const state = 'stat -c "%n %a %U" /usr/local/bin/tracker-backup /etc/logrotate.d/tracker-backup /etc/cron.d/tracker-backup storage/backup/etc; grep ^COMPOSE_FILE= .env';
    const repaired = await cli(['provision', '--env', target().envFile], target());
    expect(repaired.exitCode).toBe(0);
    const outcome = taskOutcomes(repaired.stdout);
    for (const task of [
      'Backup scripts and image build context are installed',
      'Host program is installed',
      'Backup log is rotated',
      'Backup schedule is installed',
      'Backup directories are readable by that group only, and written by root only',
      'Compose loads the backup service file after the operator\'s files',
      'Backup configuration is written (read as data, never sourced; it holds no secret)',
    ]) expect(outcome.get(task), task).toBe('changed');
    const after = await onTarget(target(), state);
    expect(after.stdout).toContain('/usr/local/bin/tracker-backup 755 root');
    expect(after.stdout).toContain('/etc/logrotate.d/tracker-backup 644 root');
    expect(after.stdout).toContain('/etc/cron.d/tracker-backup 644 root');
    expect(after.stdout).toMatch(/storage\/backup\/etc 750 root/);
    expect(after.stdout).toMatch(/^COMPOSE_FILE=.*docker-compose\.backup\.yml$/m);
    expect((await onTarget(target(), 'grep -l "# drift" /usr/local/lib/tracker-backup/lib.sh storage/backup/etc/backup.conf; true')).stdout).toBe('');
    const again = await cli(['provision', '--env', target().envFile], target());
    expect(again.stdout).toMatch(/hosts: 1, changed: 0, failed: 0/);
  });

  it('with schedule "* * * * *", cron itself runs the maintenance script and a new backup appears', async () => {
    const everyMinute = envVariant(target(), 'every-minute', (env) => {
      env.backup.schedule = '* * * * *';
    });
    expect((await cli(['provision', '--env', everyMinute], target())).exitCode).toBe(0);
    const backupsBefore = await count('storage/backup/sqlite/sqlite_*.db.gz');
    const runsBefore = Number((await onTarget(target(), 'grep -c "Backup maintenance completed (exit code: 0)" /var/log/tracker-backup.log')).stdout);
    const fired = await waitFor(150, async () => (await count('storage/backup/sqlite/sqlite_*.db.gz')) > backupsBefore);
    expect(fired).toBe(true);
    const done = await waitFor(60, async () => {
      const runs = Number((await onTarget(target(), 'grep -c "Backup maintenance completed (exit code: 0)" /var/log/tracker-backup.log')).stdout);
      return runs > runsBefore;
    });
    expect(done).toBe(true);
    // Back to daily so cron stops taking a backup every minute.
    expect((await cli(['provision', '--env', target().envFile], target())).exitCode).toBe(0);
  });

  it('backup.enabled false removes the cron entry and keeps the backups', async () => {
    const disabled = envVariant(target(), 'disabled', (env) => {
      env.backup.enabled = false;
    });
    const list = async () => (await onTarget(target(), 'ls -1 storage/backup/sqlite/')).stdout.split('\n');
    const backups = await list();
    const run = await cli(['provision', '--env', disabled], target());
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('next scheduled backup: none (backups disabled)');
    expect((await onTarget(target(), 'test ! -e /etc/cron.d/tracker-backup')).exitCode).toBe(0);
    // A run cron started just before may still add a file; none may disappear.
    expect(await list()).toEqual(expect.arrayContaining(backups));
  });
});
