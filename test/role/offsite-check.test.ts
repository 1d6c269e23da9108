// When the off-site step runs `restic check`: every check_every_days days, counted per
// repository. backup.sh offsite runs directly with bash; `restic` is a stand-in first in
// PATH that records its subcommand and answers as restic 0.14 does on success (the real
// restic against real servers is in test/e2e/offsite.test.ts).
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupSh } from './restic-standin.js';

const DAY = 86_400;
const T0 = 1_790_000_000;

function host(): { backups: string; run: (now: number) => Promise<string[]> } {
  const root = mkdtempSync(path.join(tmpdir(), 'tb-check-'));
  const backups = path.join(root, 'backups');
  const bin = path.join(root, 'bin');
  const calls = path.join(root, 'calls');
  for (const dir of [path.join(backups, 'etc/offsite'), bin, path.join(root, 'home')]) mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(backups, 'etc/backup.conf'),
    'DATABASE_DRIVER=sqlite3\nSQLITE_PATH=tracker.db\nRETENTION_DAYS=7\nCOMPRESSION=gzip\nOFFSITE_HOST=h\n' +
      'OFFSITE_KEEP_DAILY=7\nOFFSITE_KEEP_WEEKLY=4\nOFFSITE_KEEP_MONTHLY=6\nOFFSITE_CHECK_EVERY_DAYS=7\nOFFSITE_CHECK_SUBSET=5%\n',
  );
  writeFileSync(path.join(backups, 'etc/offsite/repository'), 'rest:http://one.example.org:8000/h');
  writeFileSync(
    path.join(bin, 'restic'),
    `#!/bin/sh\nshift\necho "$1" >> '${calls}'\n` +
      `[ "$1" = backup ] && echo '{"message_type":"summary","data_added":1,"snapshot_id":"0123abcd4567"}'\nexit 0\n`,
  );
  chmodSync(path.join(bin, 'restic'), 0o755);
  const run = async (now: number): Promise<string[]> => {
    writeFileSync(calls, '');
    mkdirSync(path.join(backups, '.offsite-upload'), { recursive: true });
    writeFileSync(path.join(backups, '.offsite-upload/database.db'), 'x');
    const result = await backupSh(root, backups, ['offsite', '20261128_030000'], { TRACKER_BACKUP_NOW: String(now) });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(readFileSync(path.join(backups, '.offsite-result'), 'utf8')).toContain('result=success');
    return readFileSync(calls, 'utf8').trim().split('\n');
  };
  return { backups, run };
}

describe('the off-site check schedule', () => {
  it('checks on the first run, then not again until check_every_days have passed', async () => {
    const { run } = host();
    expect(await run(T0)).toContain('check');
    expect(await run(T0 + 6 * DAY)).not.toContain('check');
    expect(await run(T0 + 7 * DAY)).toContain('check');
  });

  it('a new repository is checked on its first run, whatever the last check of the old one', async () => {
    const { backups, run } = host();
    expect(await run(T0)).toContain('check');
    writeFileSync(path.join(backups, 'etc/offsite/repository'), 'sftp:restic@two.example.org:/srv/restic/h');
    expect(await run(T0 + DAY)).toContain('check');
    expect(await run(T0 + 2 * DAY)).not.toContain('check');
    // The repository string may hold credentials: the file keeps only its hash.
    expect(readFileSync(path.join(backups, 'etc/offsite/last-check'), 'utf8')).toMatch(/^\d+ [0-9a-f]{64}\n$/);
  });
});
