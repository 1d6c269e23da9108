// backup.sh's off-site step on a rebuilt host (docs/offsite.md, Disaster recovery): the
// first backup of a host whose store held none (OFFSITE_FIRST_BACKUP=yes, set by run.sh)
// is not uploaded when the repository already holds snapshots of this host, and no
// forget --prune runs; otherwise the step uploads as always. restic is a stand-in on PATH
// that records its arguments (test/e2e/offsite-dr.test.ts runs the real one).
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { backupSh } from './restic-standin.js';

const HISTORY = JSON.stringify([{ id: 'a'.repeat(64), short_id: 'aaaaaaaa', hostname: 'tracker-host', tags: ['tracker-backup', 'stamp:20261030_030000'] }]);

let root: string;
let backups: string;

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'tb-offsite-rebuilt-'));
  backups = path.join(root, 'backups');
  for (const dir of ['etc/offsite', '.offsite-upload', 'bin', 'home']) mkdirSync(path.join(dir === 'bin' || dir === 'home' ? root : backups, dir), { recursive: true });
  writeFileSync(
    path.join(backups, 'etc/backup.conf'),
    'DATABASE_DRIVER=sqlite3\nCOMPRESSION=gzip\nBACKUP_GID=0\nOFFSITE_HOST=tracker-host\nOFFSITE_KEEP_DAILY=7\nOFFSITE_KEEP_WEEKLY=4\nOFFSITE_KEEP_MONTHLY=6\nOFFSITE_CHECK_EVERY_DAYS=0\nOFFSITE_CHECK_SUBSET=5%\n',
  );
  writeFileSync(path.join(backups, 'etc/offsite/repository'), 'rest:http://backup:8000/x');
  writeFileSync(path.join(backups, 'etc/offsite/password'), 'pw\n');
  writeFileSync(path.join(backups, '.offsite-upload/database.db'), 'db');
  const restic = path.join(root, 'bin/restic');
  writeFileSync(
    restic,
    `#!/bin/bash
printf '%s\\n' "$*" >>"$RESTIC_LOG"
case " $* " in
  *" snapshots "*) printf '%s\\n' "$SNAPSHOTS" ;;
  *" backup "*) printf '{"message_type":"summary","data_added":10,"snapshot_id":"bbbbbbbb"}\\n' ;;
esac
`,
  );
  chmodSync(restic, 0o755);
});

async function offsite(first: 'yes' | 'no', snapshots: string): Promise<{ result: string; restic: string[]; log: string }> {
  const run = await backupSh(root, backups, ['offsite', '20261101_030000'], {
    OFFSITE_FIRST_BACKUP: first,
    SNAPSHOTS: snapshots,
    RESTIC_LOG: path.join(root, 'restic.log'),
  });
  expect(run.exitCode, run.stdout + run.stderr).toBe(0);
  const log = path.join(root, 'restic.log');
  return {
    result: readFileSync(path.join(backups, '.offsite-result'), 'utf8'),
    restic: existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [],
    log: run.stdout,
  };
}

describe('the off-site step on a rebuilt host', () => {
  it('first backup, repository with this host\'s snapshots: nothing uploaded, no forget --prune, recorded as skipped with a WARN line', async () => {
    const { result, restic, log } = await offsite('yes', HISTORY);
    expect(result).toContain('result=skipped\n');
    expect(result).toMatch(/^message=not uploaded: the repository holds snapshots of tracker-host from before this host's first backup/m);
    expect(restic.some((args) => /(^| )(backup|forget)( |$)/.test(args))).toBe(false);
    expect(restic).toContainEqual(expect.stringMatching(/snapshots --json --tag tracker-backup --host tracker-host/));
    expect(log).toMatch(/WARN: Off-site copy skipped: /);
    expect(existsSync(path.join(backups, '.offsite-upload'))).toBe(false);
  });

  it('first backup into a repository without this host\'s snapshots: uploaded and pruned as always', async () => {
    const { result, restic } = await offsite('yes', '[]');
    expect(result).toContain('result=success\n');
    expect(restic.some((args) => /(^| )backup( |$)/.test(args))).toBe(true);
    expect(restic.some((args) => /forget --prune/.test(args))).toBe(true);
  });

  it('a host that had backups before: uploaded without asking for the history', async () => {
    const { result, restic } = await offsite('no', HISTORY);
    expect(result).toContain('result=success\n');
    expect(restic.some((args) => / snapshots /.test(` ${args} `))).toBe(false);
    expect(restic.some((args) => /forget --prune/.test(args))).toBe(true);
  });
});
