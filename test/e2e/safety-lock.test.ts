// Locking, status and signals of the host scripts on a real SQLite target: nothing shared
// is touched before the maintenance lock is held (by the script or by a manual
// `docker-compose run --rm backup`), status.json and manifests are never left half
// written, a SIGTERM'd run leaves no process, container or /tmp file behind, and a tracker
// left stopped by a run killed with -9 is started by the next run.
//
// Real: sshd, Docker and compose, sqlite3, flock, tmpfs. Stand-in: the tracker service.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, lastStatus, onTarget, runMaintenance, sandboxDown, sandboxUp, trackerRunning, waitFor, type Sandbox, type BackupStatus } from './sandbox.js';

let sandbox: Sandbox | undefined;

function target(): Sandbox {
  if (!sandbox) throw new Error('sandbox was not created');
  return sandbox;
}

const PID_FILE = '/run/tb-safety-lock.pid';
const MARKER = 'storage/backup/etc/tracker-stopped-by-backup';

async function sh(script: string): Promise<string> {
  const run = await onTarget(target(), script);
  if (run.exitCode !== 0) throw new Error(`on target: ${script}\n${run.stdout}\n${run.stderr}`);
  return run.stdout;
}

async function logLines(): Promise<number> {
  return Number((await sh('wc -l < /var/log/tracker-backup.log')).trim());
}

async function logSince(lines: number): Promise<string> {
  return sh(`tail -n +${lines + 1} /var/log/tracker-backup.log`);
}

/** What another run has in flight: its staged snapshot and a partial file. */
const PLANTED = ['storage/backup/.staging/19990101_000000/database.db', 'storage/backup/sqlite/.sqlite_19990101_000000.db.gz.partial'];

async function plant(): Promise<void> {
  await sh(`mkdir -p storage/backup/.staging/19990101_000000; for f in ${PLANTED.join(' ')}; do echo in-flight > "$f"; done`);
}

async function planted(): Promise<string[]> {
  return (await sh(`for f in ${PLANTED.join(' ')}; do [ -f "$f" ] && echo "$f"; done; true`)).split('\n').filter(Boolean);
}

async function unplant(): Promise<void> {
  await sh(`rm -rf storage/backup/.staging ${PLANTED[1]}`);
}

async function statusSum(): Promise<string> {
  return (await sh('sha256sum storage/backup/status.json')).trim();
}

/** The maintenance script started as cron would, detached; its PID goes to PID_FILE. */
async function startDetached(): Promise<void> {
  await sh(
    `setsid bash -c 'echo $$ > ${PID_FILE}; exec /usr/local/bin/maintenance-backup.sh >> /var/log/tracker-backup.log 2>&1' </dev/null >/dev/null 2>&1 &
     for i in $(seq 50); do [ -s ${PID_FILE} ] && exit 0; sleep 0.1; done; exit 1`,
  );
}

async function scriptAlive(): Promise<boolean> {
  return (await onTarget(target(), `kill -0 "$(cat ${PID_FILE})" 2>/dev/null`)).exitCode === 0;
}

async function stepContainers(all = false): Promise<string[]> {
  const ps = await execa('docker', [
    'ps', ...(all ? ['-a'] : []),
    '--filter', 'name=tracker-backup-',
    '--filter', `label=com.docker.compose.project=tbsandbox-${target().name}`,
    '--format', '{{.Names}}',
  ]);
  return ps.stdout.split('\n').filter(Boolean);
}

/** Another connection holds an exclusive lock, so an online snapshot waits on SQLite's busy timeout. */
function holdDatabase(seconds: number): ResultPromise {
  const db = `${target().deployDir}/storage/tracker/lib/database/tracker.db`;
  // A process group of its own, so that releaseDatabase ends the sleep and sqlite3 too.
  return execa('sh', ['-c', `(echo "BEGIN EXCLUSIVE; SELECT 1;"; sleep ${seconds}; echo "COMMIT;") | sqlite3 "$1"`, 'sh', db], { reject: false, detached: true });
}

async function releaseDatabase(holder: ResultPromise): Promise<void> {
  try {
    if (holder.pid) process.kill(-holder.pid, 'SIGTERM');
  } catch {
    // The group has ended on its own already.
  }
  await holder;
}

async function setMode(mode: 'stop' | 'online'): Promise<void> {
  await sh(`sed -i 's/^MODE=.*/MODE=${mode}/' storage/backup/etc/backup.conf`);
}

beforeAll(async () => {
  sandbox = await sandboxUp('lock');
  const run = await cli(['provision', '--env', target().envFile], target());
  if (run.exitCode !== 0) throw new Error('provision failed');
  // A good status.json and backups to compare against.
  if ((await runMaintenance(target())) !== 0) throw new Error('first backup failed');
});

afterAll(async () => {
  await sandboxDown(sandbox);
});

describe('nothing shared is touched before the lock is held (item 11)', () => {
  it('a run refused by the lock, and a manual `docker-compose run --rm backup`, exit 75 and leave another run\'s files and status.json alone', async () => {
    await plant();
    const before = await statusSum();
    // This shell holds the lock, as a running backup does.
    const out = await sh(
      `exec 8>>storage/backup/etc/maintenance.lock; flock 8
       rc=0; /usr/local/bin/maintenance-backup.sh >> /var/log/tracker-backup.log 2>&1 || rc=$?; echo "script=$rc"
       rc=0; docker-compose run --rm -T backup > /run/tb-manual.log 2>&1 || rc=$?; echo "manual=$rc"; cat /run/tb-manual.log`,
    );
    expect(out).toContain('script=75');
    expect(out).toContain('manual=75');
    expect(out).toMatch(/ERROR: Another backup is already running \(lock \/backups\/etc\/maintenance.lock is held\)/);
    expect(await planted()).toEqual(PLANTED);
    expect(await statusSum()).toBe(before);
    await unplant();
  });

  it('a run that fails before it takes the lock (a config error) leaves another run\'s files and status.json alone', async () => {
    await plant();
    const before = await statusSum();
    await sh("cp -p storage/backup/etc/backup.conf /run/tb-backup.conf && sed -i 's/^MODE=.*/MODE=bogus/' storage/backup/etc/backup.conf");
    try {
      expect(await runMaintenance(target())).toBe(1);
    } finally {
      await sh('cp -p /run/tb-backup.conf storage/backup/etc/backup.conf');
    }
    expect(await planted()).toEqual(PLANTED);
    expect(await statusSum()).toBe(before);
    await unplant();
  });

  it('a manual `docker-compose run --rm backup` with the lock free takes it and backs up', async () => {
    const manual = await onTarget(target(), 'docker-compose run --rm -T backup');
    expect(manual.exitCode, manual.stdout + manual.stderr).toBe(0);
    expect(manual.stdout).toMatch(/INFO: Manifest manifests\/manifest_\d{8}_\d{6}\.sha256 lists 2 file\(s\)/);
  });
});

describe('status.json and manifests are replaced whole or not at all (item 12)', () => {
  it('keeps the last status.json and logs an ERROR when the disk is full as it is written', async () => {
    expect(await runMaintenance(target())).toBe(0);
    const before = await sh('cat storage/backup/status.json');
    expect((JSON.parse(before) as BackupStatus).result).toBe('success');
    const from = await logLines();
    // A full tmpfs over storage/backup in the target's own mount namespace: the script on
    // the target sees a full disk (the backup containers, started by the host's daemon, do not).
    const pid = (await execa('docker', ['inspect', '-f', '{{.State.Pid}}', `tbsandbox-${target().name}`])).stdout.trim();
    const dir = `${target().deployDir}/storage/backup`;
    await execa('nsenter', ['-t', pid, '-m', 'sh', '-c',
      'set -e; keep=$(mktemp -d /run/tb-keep.XXXXXX); cp -a "$1"/. "$keep"/; mount -t tmpfs -o size=8m,mode=0700 tmpfs "$1"; cp -a "$keep"/. "$1"/; rm -rf "$keep"; cat /dev/zero > "$1/.filler" 2>/dev/null || true',
      'sh', dir]);
    try {
      expect(await runMaintenance(target())).toBe(1);
      expect(await sh('cat storage/backup/status.json')).toBe(before);
      expect(await sh('ls -A storage/backup')).not.toMatch(/status.*partial/);
      expect(await logSince(from)).toMatch(/ERROR: could not write storage\/backup\/status\.json \(the previous version is kept\): .*No space left on device/);
      expect(await trackerRunning(target())).toBe(true);
    } finally {
      await execa('nsenter', ['-t', pid, '-m', 'umount', dir], { reject: false });
    }
    expect(await runMaintenance(target())).toBe(0);
  });

  it('fails the run with an ERROR line and no manifest when the manifest cannot be written', async () => {
    const manifests = `${target().deployDir}/storage/backup/manifests`;
    const before = (await execa('ls', ['-1A', manifests])).stdout;
    const from = await logLines();
    // On the host: the backup container's bind mount includes submounts.
    await execa('sh', ['-c', 'set -e; keep=$(mktemp -d); cp -a "$1"/. "$keep"/; mount -t tmpfs -o size=256k,mode=0700 tmpfs "$1"; cp -a "$keep"/. "$1"/; rm -rf "$keep"; cat /dev/zero > "$1/.filler" 2>/dev/null || true', 'sh', manifests]);
    try {
      expect(await runMaintenance(target())).toBe(1);
      const now = (await execa('ls', ['-1A', manifests])).stdout.split('\n').filter((f) => f !== '.filler');
      expect(now.join('\n')).toBe(before);
      expect(await logSince(from)).toMatch(/ERROR: could not write \/backups\/manifests\/manifest_\d{8}_\d{6}\.sha256 \(the previous version is kept\): .*No space left on device/);
      expect((await lastStatus(target())).result).toBe('failed');
    } finally {
      await execa('umount', [manifests], { reject: false });
    }
    expect(await runMaintenance(target())).toBe(0);
  });
});

describe('a step ends with the script (item 13)', () => {
  it('a SIGTERM mid-step ends the run at once: no process, container or /tmp file of it is left', async () => {
    await setMode('online');
    const tmpBefore = await sh('ls -A /tmp');
    const from = await logLines();
    const holder = holdDatabase(60);
    try {
      await startDetached();
      expect(await waitFor(60, async () => (await stepContainers()).some((n) => n.includes('-snapshot-')))).toBe(true);
      await sh(`kill -TERM "$(cat ${PID_FILE})"`);
      const sent = Date.now();
      // The snapshot waits 30 s on the database lock; the run must not wait for it.
      while ((await scriptAlive()) && Date.now() - sent < 15_000) await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await scriptAlive()).toBe(false);
      const ps = (await sh('ps -eo args=')).split('\n').filter((l) => /maintenance-backup|compose|timeout|^sleep/.test(l));
      expect(ps).toEqual([]);
      expect(await stepContainers(true)).toEqual([]);
      expect(await sh('ls -A /tmp')).toBe(tmpBefore);
      expect(await logSince(from)).toContain('Backup maintenance completed (exit code: 130)');
      expect(await lastStatus(target())).toMatchObject({ result: 'failed', exit_code: 130 });
    } finally {
      await releaseDatabase(holder);
      // Whatever happened, the next test starts with no run of this one in flight: the
      // script's process group (setsid made it its own) goes, with anything left in it.
      await waitFor(90, async () => !(await scriptAlive()));
      await onTarget(target(), `kill -KILL -- "-$(cat ${PID_FILE})" 2>/dev/null || true`);
      await setMode('stop');
    }
    expect(await runMaintenance(target())).toBe(0);
  });

  it('a run removes step containers of this deploy directory left by a killed run, and only those', async () => {
    const prefix = `tracker-backup-${createHash('sha256').update(target().deployDir).digest('hex').slice(0, 8)}-`;
    const ours = `${prefix}19990101_000000-snapshot-${process.pid}`;
    // Not hex: no deploy directory's prefix.
    const foreign = `tracker-backup-zzzzzzzz-19990101_000000-snapshot-${process.pid}`;
    for (const name of [ours, foreign]) await execa('docker', ['create', '--name', name, 'tracker-backup-sandbox/tracker:latest', 'true']);
    try {
      const from = await logLines();
      expect(await runMaintenance(target())).toBe(0);
      const left = (await execa('docker', ['ps', '-a', '--filter', 'name=19990101_000000-snapshot', '--format', '{{.Names}}'])).stdout.split('\n');
      expect(left).not.toContain(ours);
      expect(left).toContain(foreign);
      expect(await logSince(from)).toContain(`WARN: Removing container ${ours}, left behind by an earlier backup or restore that was killed`);
    } finally {
      await execa('docker', ['rm', '-f', ours, foreign], { reject: false });
    }
  });
});

describe('a tracker left stopped by a killed run (item 14)', () => {
  it('kill -9 while the tracker is being stopped leaves a marker; the next run warns, starts the tracker and succeeds', async () => {
    const ids = (await sh('docker-compose ps -q tracker')).trim().split('\n');
    expect(ids).toHaveLength(1);
    const id = ids[0] as string;
    const pid = (await execa('docker', ['inspect', '-f', '{{.State.Pid}}', id])).stdout.trim();
    // A paused tracker cannot act on the stop signal (SIGINT): the run waits out its stop
    // timeout, a window in which it is killed. The signal is pending on the paused process
    // (bit 2, SIGINT, of ShdPnd in /proc; others such as SIGCHLD gather there too) once the
    // run has sent it; resumed, the tracker takes it and exits.
    const pending = async () => {
      const mask = /^ShdPnd:\s*([0-9a-f]+)/m.exec(await readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''))?.[1];
      return mask !== undefined && (BigInt(`0x${mask}`) & 2n) !== 0n;
    };
    await execa('kill', ['-STOP', pid]);
    try {
      await startDetached();
      expect(await waitFor(30, pending)).toBe(true);
      await sh(`kill -KILL "$(cat ${PID_FILE})"`);
    } finally {
      await execa('kill', ['-CONT', pid], { reject: false });
    }
    expect(await waitFor(60, async () => !(await trackerRunning(target())))).toBe(true);
    expect((await sh(`cat ${MARKER} 2>/dev/null || true`)).trim()).toBe(id);
    const from = await logLines();
    expect(await runMaintenance(target())).toBe(0);
    const log = await logSince(from);
    expect(log).toContain('WARN: An earlier backup or restore was killed while it had the tracker stopped');
    expect(log).toContain('INFO: Tracker started again');
    expect(await trackerRunning(target())).toBe(true);
    expect((await onTarget(target(), `test -e ${MARKER}`)).exitCode).not.toBe(0);
    expect((await lastStatus(target())).result).toBe('success');
  });
});
