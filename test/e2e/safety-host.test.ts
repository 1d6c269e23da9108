// Hostile files on a real target (SQLite, stop mode): what the tracker's containers can
// plant in the directories they write must not steer the root scripts. A link next to
// the database must not be copied into a backup, and a restore puts back exactly the
// file whose checksum it verified. Stand-in: the tracker service only.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, lastStatus, onTarget, runMaintenance, sandboxDown, sandboxUp, trackerRunning, type Sandbox } from './sandbox.js';

let sandbox: Sandbox | undefined;

function target(): Sandbox {
  if (!sandbox) throw new Error('sandbox was not created');
  return sandbox;
}

const DATABASE = 'storage/tracker/lib/database/tracker.db';

/** Files under storage/backup, compressed ones read decompressed, that contain `text`. */
async function backupFilesContaining(text: string): Promise<string> {
  const out = await onTarget(
    target(),
    `grep -rlF -- '${text}' storage/backup || true
     for f in storage/backup/*/*.gz; do [ -e "$f" ] && gzip -dc "$f" | grep -qF -- '${text}' && echo "$f"; done; true`,
  );
  return out.stdout.trim();
}

/**
 * The maintenance script as cron runs it, once the previous run's lock is free: a run's
 * watchdog `sleep` inherits the lock descriptor and can hold it for up to a second after
 * the script exits, so a run started right after another may be refused with 75.
 */
async function maintenance(): Promise<number> {
  await onTarget(target(), 'flock storage/backup/etc/maintenance.lock true');
  return runMaintenance(target());
}

beforeAll(async () => {
  sandbox = await sandboxUp('safety');
  const run = await cli(['provision', '--env', target().envFile], target());
  if (run.exitCode !== 0) throw new Error('provision failed');
});

afterAll(async () => {
  await sandboxDown(sandbox);
});

describe('the stop-mode copy of the database', () => {
  it('refuses a -wal link to a root-only file: exit 1, an ERROR line, the tracker running, the file copied nowhere', async () => {
    const secret = `tb-secret-${randomUUID()}`;
    const planted = await onTarget(
      target(),
      `install -m 0600 /dev/null /root/tb-secret && printf '%s\\n' '${secret}' > /root/tb-secret
       ln -s /root/tb-secret ${DATABASE}-wal`,
    );
    expect(planted.exitCode, planted.stderr).toBe(0);
    try {
      expect(await maintenance()).toBe(1);
      const log = (await onTarget(target(), 'tail -n 30 /var/log/tracker-backup.log')).stdout;
      expect(log).toMatch(
        /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] ERROR: \S+\/storage\/tracker\/lib\/database\/tracker\.db-wal is a symbolic link or not a regular file; not copying it$/m,
      );
      expect(await trackerRunning(target())).toBe(true);
      const status = await lastStatus(target());
      expect(status).toMatchObject({ result: 'failed', exit_code: 1 });
      expect(await backupFilesContaining(secret)).toBe('');
      // The link was only looked at, never replaced or followed for writing.
      expect((await onTarget(target(), `readlink ${DATABASE}-wal; cat /root/tb-secret`)).stdout).toBe(`/root/tb-secret\n${secret}`);
    } finally {
      await onTarget(target(), `rm -f ${DATABASE}-wal /root/tb-secret`);
    }
    // With the link gone the next run backs up again.
    expect(await maintenance()).toBe(0);
  });
});

describe('restore', () => {
  it('restores the .zst its manifest lists and verified, not a different same-stamp .gz planted beside it', async () => {
    expect(await maintenance()).toBe(0);
    const source = (await lastStatus(target())).stamp;
    const backups = `${target().deployDir}/storage/backup`;
    // A run whose manifest lists a .zst (the deploy directory has the same path here and
    // on the target), and a different database under the same stamp as .gz.
    const stamp = '20300101_000000';
    const other = path.join(target().work, 'planted.db');
    await execa('sqlite3', [other, "CREATE TABLE planted(note TEXT); INSERT INTO planted VALUES ('not the verified backup');"]);
    await execa('sh', [
      '-c',
      `set -e; cd "$1"
       gzip -dc sqlite/sqlite_$2.db.gz | zstd -q -o sqlite/sqlite_$3.db.zst
       sha256sum sqlite/sqlite_$3.db.zst > manifests/manifest_$3.sha256
       gzip -c "$4" > sqlite/sqlite_$3.db.gz`,
      'sh',
      backups,
      source,
      stamp,
      other,
    ]);
    const expected = (await execa('sh', ['-c', 'zstd -q -dc "$1" | sha256sum', 'sh', `${backups}/sqlite/sqlite_${stamp}.db.zst`])).stdout.split(' ')[0];
    // Stopped first, so nothing writes the database after the restore puts it back.
    await onTarget(target(), 'docker-compose stop tracker >/dev/null 2>&1');
    try {
      const run = await onTarget(target(), `tracker-backup-restore.sh --at ${stamp} --only database --yes 2>&1`);
      expect(run.exitCode, run.stdout).toBe(0);
      expect(run.stdout).toContain(`Checksums verified for backup ${stamp}: sqlite/sqlite_${stamp}.db.zst`);
      expect(run.stdout).toContain(`Restored SQLite database ${DATABASE} from sqlite_${stamp}.db.zst`);
      const restored = (await execa('sha256sum', [`${target().deployDir}/${DATABASE}`])).stdout.split(' ')[0];
      expect(restored).toBe(expected);
    } finally {
      await onTarget(target(), `cd storage/backup && rm -f sqlite/sqlite_${stamp}.db.zst sqlite/sqlite_${stamp}.db.gz manifests/manifest_${stamp}.sha256`);
      await onTarget(target(), 'docker-compose start tracker >/dev/null 2>&1');
    }
  });
});
