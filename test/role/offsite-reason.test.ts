// What the off-site step records as the reason restic failed (status.json's offsite.message,
// the WARN line, the /fail ping). backup.sh offsite runs directly with bash; `restic` is a
// stand-in first in PATH that prints what restic 0.14 (the backup image's) printed on
// stderr in these cases and fails; for sftp it first runs `ssh` as restic does (the real
// ssh, refused by a closed port). The real restic against real servers is in
// test/e2e/offsite.test.ts.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupSh } from './restic-standin.js';

const STAMP = '20261128_030000';

// restic 0.14's stderr for sftp when ssh failed: its Fatal line says only EOF. ssh's own
// words may or may not precede it ("subprocess ssh: ..."): restic can exit first.
const SFTP_EOF = 'Fatal: unable to open repository at sftp:restic@127.0.0.1:/srv/restic: unable to start the sftp session, error: EOF\n';

// restic 0.14's stderr when another client holds the repository's lock: no Fatal line, the
// advice last.
const LOCKED = `unable to create lock in backend: repository is already locked by PID 18 on 0e4b2aa59d69 by root (UID 0, GID 0)
lock was created at 2026-11-28 11:31:40 (4.070520915s ago)
storage ID c6d2af10
the \`unlock\` command can be used to remove stale locks
`;

/**
 * backup.sh offsite with a restic that runs `ssh` first when `ssh` is given (as restic's sftp
 * backend does, found in PATH), prints `stderr` and exits 1; the recorded message.
 */
async function reason(stderr: string, ssh = ''): Promise<string> {
  const root = mkdtempSync(path.join(tmpdir(), 'tb-reason-'));
  const backups = path.join(root, 'backups');
  const bin = path.join(root, 'bin');
  for (const dir of [path.join(backups, 'etc/offsite'), path.join(backups, '.offsite-upload'), bin, path.join(root, 'home')]) mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(backups, 'etc/backup.conf'), 'DATABASE_DRIVER=sqlite3\nSQLITE_PATH=tracker.db\nRETENTION_DAYS=7\nCOMPRESSION=gzip\nOFFSITE_HOST=h\n');
  writeFileSync(path.join(backups, 'etc/offsite/repository'), 'sftp:restic@backup.example.org:/srv/restic');
  writeFileSync(path.join(backups, '.offsite-upload/database.db'), 'x');
  writeFileSync(path.join(root, 'stderr'), stderr);
  writeFileSync(path.join(bin, 'restic'), `#!/bin/sh\n${ssh ? `ssh ${ssh} </dev/null\n` : ''}cat '${path.join(root, 'stderr')}' >&2\nexit 1\n`);
  chmodSync(path.join(bin, 'restic'), 0o755);
  const run = await backupSh(root, backups, ['offsite', STAMP]);
  expect(run.exitCode, run.stdout + run.stderr).toBe(1);
  const lines = readFileSync(path.join(backups, '.offsite-result'), 'utf8').trim().split('\n');
  expect(lines).toContain('result=failed');
  return (lines.find((line) => line.startsWith('message=')) ?? '').slice('message='.length);
}

describe('the reason an off-site step failed', () => {
  it('sftp: ssh\'s own words come first, from its log (restic\'s Fatal line says only EOF)', async () => {
    expect(await reason(SFTP_EOF, '-p 1 restic@127.0.0.1 -s sftp')).toBe(
      'Off-site repository could not be opened: ssh: ssh: connect to host 127.0.0.1 port 1: Connection refused ' +
        'Fatal: unable to open repository at sftp:restic@127.0.0.1:/srv/restic: unable to start the sftp session, error: EOF',
    );
  });

  it('a lock held by another client: the line naming the holder, not the advice after it', async () => {
    expect(await reason(LOCKED)).toBe('Off-site repository could not be opened: unable to create lock in backend: repository is already locked by PID 18 on 0e4b2aa59d69 by root (UID 0, GID 0)');
  });

  it('any other failure: restic\'s Fatal line, as before', async () => {
    expect(await reason('Fatal: wrong password or no key found\n')).toBe('Off-site repository could not be opened: Fatal: wrong password or no key found');
  });
});
