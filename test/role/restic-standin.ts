// The off-site unit tests run backup.sh directly with bash, with a `restic` stand-in first in
// PATH (ROOT/bin) and a home of their own (ROOT/home); the real restic is in test/e2e/offsite*.
import path from 'node:path';
import { execa } from 'execa';
import { ROOT as REPO } from '../helpers.js';

const SCRIPT = path.join(REPO, 'roles/tracker_backup/files/lib/backup.sh');

/** `backup.sh ARGS...` on the store BACKUPS, the deploy directory ROOT, plus ENV. */
export async function backupSh(
  root: string,
  backups: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const run = await execa('bash', [SCRIPT, ...args], {
    reject: false,
    env: {
      PATH: `${path.join(root, 'bin')}:${process.env.PATH ?? ''}`,
      HOME: path.join(root, 'home'),
      TRACKER_BACKUP_BACKUPS_DIR: backups,
      TRACKER_BACKUP_DATA_DIR: root,
      ...env,
    },
  });
  return { exitCode: run.exitCode ?? -1, stdout: run.stdout, stderr: run.stderr };
}
