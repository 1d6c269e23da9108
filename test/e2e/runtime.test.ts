// The backup runtime on a real target, SQLite: status file, modes, locking, and the
// faults operators hit (tracker already stopped, container killed, disk full, aged
// backups). Each run goes through /usr/local/bin/maintenance-backup.sh as cron runs it.
//
// Real: sshd, cron, Docker and compose, sqlite3. Stand-in: the tracker service.
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, envVariant, onTarget, sandboxDown, sandboxUp, waitFor, type Sandbox, runMaintenance, lastStatus } from './sandbox.js';

let sandbox: Sandbox | undefined;
const measured: Record<string, unknown> = {};

function target(): Sandbox {
  if (!sandbox) throw new Error('sandbox was not created');
  return sandbox;
}

async function trackerState(): Promise<{ running: boolean; startedAt: string }> {
  const out = await onTarget(target(), 'for id in $(docker-compose ps -q tracker); do docker inspect -f "{{.State.Running}} {{.State.StartedAt}}" "$id"; done');
  const [running, startedAt] = out.stdout.trim().split(' ');
  return { running: running === 'true', startedAt: startedAt ?? '' };
}

async function visibleBackups(): Promise<string[]> {
  const out = await onTarget(target(), 'ls -1A storage/backup/sqlite storage/backup/config');
  return out.stdout.split('\n').filter((l) => l && !l.endsWith(':'));
}

async function logTail(lines = 40): Promise<string> {
  return (await onTarget(target(), `tail -n ${lines} /var/log/tracker-backup.log`)).stdout;
}

beforeAll(async () => {
  sandbox = await sandboxUp('runtime');
  const run = await cli(['provision', '--env', target().envFile], target());
  if (run.exitCode !== 0) throw new Error('provision failed');
});

afterAll(async () => {
  await sandboxDown(sandbox);
  process.stdout.write(`runtime measurements: ${JSON.stringify(measured)}\n`);
});

describe('a run in stop mode', () => {
  it('writes status.json with the files, their checksums and the tracker downtime', async () => {
    expect(await runMaintenance(target())).toBe(0);
    const s = await lastStatus(target());
    expect(s).toMatchObject({ result: 'success', exit_code: 0, mode: 'stop' });
    expect(s.tracker_downtime_seconds).toBeGreaterThan(0);
    measured.sqlite_stop_downtime_s = s.tracker_downtime_seconds;
    const paths = s.files.map((f) => f.path).sort();
    expect(paths).toEqual([`config/config_${s.stamp}.tar.gz`, `sqlite/sqlite_${s.stamp}.db.gz`]);
    for (const f of s.files) expect(f.sha256).toMatch(/^[0-9a-f]{64}$/);
    const check = await onTarget(target(), `cd storage/backup && sha256sum -c manifests/manifest_${s.stamp}.sha256`);
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    expect(await logTail()).toMatch(/INFO: Tracker started successfully \(down for \d+\.\ds\)/);
    // No backup.offsite: no off-site step, and status.json says so (docs/offsite.md).
    expect((s as unknown as { offsite: unknown }).offsite).toMatchObject({ result: 'disabled', snapshot: null, bytes_added: null, check: { result: 'skipped', at: null } });
  });

  it('keeps backups and config to root and the deploy user\'s group: directories 0750, files 0640, the lock 0600 root', async () => {
    const modes = await onTarget(target(), 'stat -c "%a %U %G %n" storage/backup storage/backup/* storage/backup/*/*');
    const group = target().env.ssh_credentials.username;
    for (const line of modes.stdout.split('\n')) {
      const [mode, owner, owningGroup, name] = line.split(' ');
      expect(owner, name).toBe('root');
      if (name?.endsWith('/maintenance.lock')) expect(`${mode} ${owningGroup}`, name).toBe('600 root');
      else expect([`750 ${group}`, `640 ${group}`], `${name} is ${mode} ${owningGroup}`).toContain(`${mode} ${owningGroup}`);
    }
    expect(modes.stdout).toMatch(new RegExp(`^640 root ${group} storage/backup/etc/backup.conf$`, 'm'));
    expect(modes.stdout).toMatch(new RegExp(`^640 root ${group} storage/backup/status.json$`, 'm'));
  });

  it('installs a logrotate policy that logrotate accepts', async () => {
    const check = await onTarget(target(), 'cat /etc/logrotate.d/tracker-backup; command -v logrotate >/dev/null && logrotate -d /etc/logrotate.d/tracker-backup 2>&1 | tail -n 3 || true');
    expect(check.stdout).toContain('/var/log/tracker-backup.log {');
    // No owner or group: the new log keeps the rotated one's, root and the deploy user's group.
    expect(check.stdout).toMatch(/^\s*create 0640$/m);
  });
});

describe('faults', () => {
  it('leaves a tracker that was stopped on purpose stopped, and says so', async () => {
    await onTarget(target(), 'docker-compose stop tracker >/dev/null 2>&1');
    expect(await runMaintenance(target())).toBe(0);
    expect((await trackerState()).running).toBe(false);
    expect(await logTail()).toContain('WARN: Tracker is not running; it will be left stopped after the backup');
    await onTarget(target(), 'docker-compose start tracker >/dev/null 2>&1');
    expect(await waitFor(30, async () => (await trackerState()).running)).toBe(true);
  });

  it('runs one of two backups started at the same moment and refuses the other with exit code 75', async () => {
    const both = await onTarget(
      target(),
      `( rc=0; /usr/local/bin/maintenance-backup.sh > /tmp/run-a.log 2>&1 || rc=$?; echo "a=$rc" > /tmp/rc-a ) &
       ( rc=0; /usr/local/bin/maintenance-backup.sh > /tmp/run-b.log 2>&1 || rc=$?; echo "b=$rc" > /tmp/rc-b ) &
       wait; cat /tmp/rc-a /tmp/rc-b; cat /tmp/run-a.log /tmp/run-b.log`,
    );
    const codes = both.stdout.split('\n').filter((l) => /^[ab]=/.test(l)).map((l) => Number(l.slice(2))).sort();
    expect(codes).toEqual([0, 75]);
    expect(both.stdout).toContain('ERROR: Another backup is already running');
    expect((await trackerState()).running).toBe(true);
  });

  it('survives the backup container being killed mid-run: tracker up, nothing partial, status failed, next run fine', async () => {
    const before = await visibleBackups();
    // Online mode, where the snapshot is a container step (stop mode copies an SQLite
    // file on the host), with a lock on the database so that step waits on it: the kill
    // then lands in the middle of the run every time, not by luck of timing.
    await onTarget(target(), "sed -i 's/^MODE=.*/MODE=online/' storage/backup/etc/backup.conf");
    const db = `${target().deployDir}/storage/tracker/lib/database/tracker.db`;
    const holder = execa('sh', ['-c', '(echo "BEGIN EXCLUSIVE; SELECT 1;"; sleep 25; echo "COMMIT;") | sqlite3 "$1"', 'sh', db], { reject: false });
    const run = runMaintenance(target());
    let killed = '';
    for (let tries = 0; tries < 300 && !killed; tries++) {
      const ps = await execa('docker', ['ps', '--filter', 'name=tracker-backup-', '--filter', `label=com.docker.compose.project=tbsandbox-${target().name}`, '--format', '{{.Names}}'], { reject: false });
      const name = ps.stdout.split('\n').find((n) => n.includes('-snapshot-'));
      if (name && (await execa('docker', ['kill', name], { reject: false })).exitCode === 0) killed = name;
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    holder.kill();
    await holder;
    const code = await run;
    await onTarget(target(), "sed -i 's/^MODE=.*/MODE=stop/' storage/backup/etc/backup.conf");
    expect(killed).toContain('-snapshot-');
    expect(code).toBe(1);
    expect((await trackerState()).running).toBe(true);
    expect((await lastStatus(target())).result).toBe('failed');
    expect(await visibleBackups()).toEqual(before);
    expect(await runMaintenance(target())).toBe(0);
    expect((await lastStatus(target())).result).toBe('success');
    // The staging copy the killed step left behind was cleared, not published.
    expect((await onTarget(target(), 'ls -A storage/backup/.staging 2>/dev/null | wc -l')).stdout.trim()).toBe('0');
  });

  it('kills a backup step that outlives timeout_seconds, removes its container and starts the tracker again', async () => {
    // Online mode: the snapshot is a container step there (stop mode copies on the host).
    const short = envVariant(target(), 'short-timeout', (env) => {
      env.backup.timeout_seconds = 10;
      env.backup.mode = 'online';
    });
    expect((await cli(['provision', '--env', short], target())).exitCode).toBe(0);
    // Another process holds an exclusive lock, so the snapshot waits on SQLite's busy timeout.
    // The holder waits out the stand-in's own short writes to get it, and the run starts
    // only once a reader is refused three times in a row (the stand-in's commits lock for
    // milliseconds; the holder for 45 s).
    const db = `${target().deployDir}/storage/tracker/lib/database/tracker.db`;
    const holder = execa('sh', ['-c', '(echo ".timeout 20000"; echo "BEGIN EXCLUSIVE; SELECT 1;"; sleep 45; echo "COMMIT;") | sqlite3 "$1"', 'sh', db], { reject: false });
    let refused = 0;
    const locked = await waitFor(30, async () => {
      const probe = await execa('sqlite3', [db, 'SELECT count(*) FROM torrents'], { reject: false });
      refused = probe.stderr.includes('locked') ? refused + 1 : 0;
      return refused >= 3;
    });
    expect(locked).toBe(true);
    try {
      expect(await runMaintenance(target())).toBe(1);
      expect(await logTail()).toContain("ERROR: Backup container step 'snapshot' timed out after 10s; killed it");
      expect((await trackerState()).running).toBe(true);
      const left = await execa('docker', ['ps', '-a', '--filter', 'name=tracker-backup-', '--filter', `label=com.docker.compose.project=tbsandbox-${target().name}`, '--format', '{{.Names}}']);
      expect(left.stdout.trim()).toBe('');
    } finally {
      holder.kill();
      await holder;
      expect((await cli(['provision', '--env', target().envFile], target())).exitCode).toBe(0);
    }
  });

  it('fails cleanly when the backup disk is full: tracker up, no partial file, old backups kept, status failed', async () => {
    const sqliteDir = `${target().deployDir}/storage/backup/sqlite`;
    const before = (await execa('ls', ['-1', sqliteDir])).stdout.split('\n');
    // The backup container's bind mount includes submounts, so a full tmpfs over
    // sqlite/ on the host is a full disk for the backup while the target runs normally.
    await execa('sh', ['-c', `set -e; tmp=$(mktemp -d); cp -a "$1"/. "$tmp"/; mount -t tmpfs -o size=256k,mode=0700 tmpfs "$1"; cp -a "$tmp"/. "$1"/; cat /dev/zero > "$1/.filler" 2>/dev/null || true`, 'sh', sqliteDir]);
    try {
      expect(await runMaintenance(target())).toBe(1);
      expect((await trackerState()).running).toBe(true);
      const now = (await execa('ls', ['-1A', sqliteDir])).stdout.split('\n').filter((f) => f !== '.filler');
      expect(now.sort()).toEqual(before.sort());
      expect((await lastStatus(target())).result).toBe('failed');
      expect(await logTail()).toMatch(/ERROR: Backup failed/);
    } finally {
      await execa('umount', [sqliteDir], { reject: false });
    }
    expect(await runMaintenance(target())).toBe(0);
  });

  it('retention deletes planted backups older than retention_days, keeps recent ones and foreign files', async () => {
    const old = '20200101_000000';
    const recent = new Date(Date.now() - 2 * 86_400_000).toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
    await onTarget(
      target(),
      `cd storage/backup; for f in sqlite/sqlite_${old}.db.gz config/config_${old}.tar.gz sqlite/sqlite_${recent}.db.gz sqlite/operator-notes.txt; do : > "$f"; done`,
    );
    expect(await runMaintenance(target())).toBe(0);
    const files = await visibleBackups();
    expect(files).not.toContain(`sqlite_${old}.db.gz`);
    expect(files).not.toContain(`config_${old}.tar.gz`);
    expect(files).toContain(`sqlite_${recent}.db.gz`);
    expect(files).toContain('operator-notes.txt');
    expect(await logTail()).toContain(`Retention: deleted sqlite_${old}.db.gz`);
  });
});

describe('online mode', () => {
  it('never stops the tracker and still takes a consistent backup', async () => {
    const online = envVariant(target(), 'online', (env) => {
      env.backup.mode = 'online';
    });
    expect((await cli(['provision', '--env', online], target())).exitCode).toBe(0);
    const before = await trackerState();
    expect(await runMaintenance(target())).toBe(0);
    const after = await trackerState();
    expect(after).toEqual(before);
    const s = await lastStatus(target());
    expect(s).toMatchObject({ result: 'success', mode: 'online', tracker_downtime_seconds: 0 });
    measured.sqlite_online_downtime_s = s.tracker_downtime_seconds;
    const rows = await onTarget(target(), `tmp=$(mktemp); gunzip -c storage/backup/sqlite/sqlite_${s.stamp}.db.gz > "$tmp"; sqlite3 "$tmp" 'PRAGMA integrity_check; SELECT count(*) > 0 FROM torrents'`);
    expect(rows.stdout.split('\n')).toEqual(['ok', '1']);
    expect(await logTail()).toContain('INFO: Online mode: the tracker keeps running during the backup');
  });
});
