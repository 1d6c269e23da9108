// Environment-file rules that reach the host (issue 9): the deployer's minimal
// "backup": {} provisions with the deployer's defaults, and the backup container itself
// refuses a config path that would archive the backups, as listed in backup-paths.txt by
// hand or reached through a symlink (the role can be used without our validator).
// Stand-in: the tracker service only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, envVariant, onTarget, sandboxDown, sandboxUp, type Sandbox } from './sandbox.js';

let sandbox: Sandbox | undefined;

function target(): Sandbox {
  if (!sandbox) throw new Error('sandbox was not created');
  return sandbox;
}

beforeAll(async () => {
  sandbox = await sandboxUp('envguard');
}, 300_000);

afterAll(async () => {
  await sandboxDown(sandbox);
});

describe('environment-file rules on a real target', () => {
  it('"backup": {} provisions with the deployer\'s defaults: daily at 03:00, 7 days', async () => {
    const minimal = envVariant(target(), 'minimal', (env) => {
      env.backup = {};
    });
    const run = await cli(['provision', '--env', minimal], target());
    expect(run.exitCode, run.stderr).toBe(0);
    const cron = await onTarget(target(), 'cat /etc/cron.d/tracker-backup; grep RETENTION_DAYS storage/backup/etc/backup.conf');
    expect(cron.stdout).toMatch(/^0 3 \* \* \* root cd /m);
    expect(cron.stdout).toContain('RETENTION_DAYS=7');
  });

  it('the backup container skips config paths that reach storage/backup with an ERROR and fails the run', async () => {
    const run = await onTarget(
      target(),
      `ln -sfn backup storage/to-backups
printf '%s\\n' storage/tracker/etc/tracker.toml . storage storage/to-backups >> storage/backup/etc/backup-paths.txt
# </dev/null: docker-compose run would otherwise read the rest of this script from stdin.
rc=0; docker-compose run --rm backup </dev/null >/tmp/envguard.log 2>&1 || rc=$?
cat /tmp/envguard.log; echo "exit=$rc"
newest=$(ls -1 storage/backup/config/config_*.tar.gz | tail -n 1)
echo "archive:"; tar -tzf "$newest"`,
    );
    expect(run.stdout, run.stderr).toContain('exit=1');
    for (const entry of ['.', 'storage', 'storage/to-backups']) {
      expect(run.stdout).toMatch(new RegExp(`^\\[[\\d: -]+\\] ERROR: Config path ${entry.replaceAll('.', '\\.')} is, contains or is inside the backups directory; skipped$`, 'm'));
    }
    const archive = run.stdout.split('archive:\n')[1] ?? '';
    expect(archive).toContain('storage/tracker/etc/tracker.toml');
    expect(archive).not.toMatch(/storage\/backup\//);
  });
});
