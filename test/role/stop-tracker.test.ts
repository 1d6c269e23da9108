// stop_tracker and load_settings of the host library (roles/tracker_backup/files/lib/host.sh),
// run with bash against a fake `docker` on PATH that plays one tracker container: it
// exits on the signals listed in FAKE_EXITS_ON and ignores the others, as torrust/tracker
// (PID 1, no init, Ctrl-C only) ignores docker stop's SIGTERM. The real stand-in and a
// real run are in test/e2e/tracker-stop.test.ts.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { beforeEach, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

const LIB = path.join(ROOT, 'roles/tracker_backup/files/lib');
const ID = 'aaaaaaaaaaaa';

// Every call is appended to calls.log; the container's state is the file `running`.
const FAKE_DOCKER = `#!/usr/bin/env bash
printf '%s\\n' "$*" >>"$FAKE_DIR/calls.log"
case "$1" in
  inspect) printf '%s\\n' "$(cat "$FAKE_DIR/running")" ;;
  kill)
    [[ "$2" == --signal ]] || exit 2
    [[ " $FAKE_EXITS_ON " == *" $3 "* ]] && echo false >"$FAKE_DIR/running"
    ;;
  stop) echo false >"$FAKE_DIR/running" ;;
  *) exit 2 ;;
esac
exit 0
`;

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tb-stop-'));
  mkdirSync(path.join(dir, 'bin'));
  mkdirSync(path.join(dir, 'deploy/storage/backup/etc'), { recursive: true });
  writeFileSync(path.join(dir, 'bin/docker'), FAKE_DOCKER);
  chmodSync(path.join(dir, 'bin/docker'), 0o755);
  writeFileSync(path.join(dir, 'running'), 'true\n');
  writeFileSync(path.join(dir, 'calls.log'), '');
});

function conf(extra: string): void {
  writeFileSync(
    path.join(dir, 'deploy/storage/backup/etc/backup.conf'),
    // What the role's template writes (every key of settings.tsv), STOP_SIGNAL from the test.
    'TRACKER_SERVICE=tracker\nDATABASE_DRIVER=sqlite3\nSQLITE_PATH=storage/tracker/lib/database/tracker.db\nMYSQL_HOST=mysql\n' +
      'MYSQL_PORT=3306\nMYSQL_DATABASE=torrust_tracker\nMYSQL_USER=tracker_user\nRETENTION_DAYS=7\nMODE=stop\nCOMPRESSION=gzip\n' +
      'OFFSITE_KEEP_DAILY=7\nOFFSITE_KEEP_WEEKLY=4\nOFFSITE_KEEP_MONTHLY=6\nOFFSITE_CHECK_EVERY_DAYS=7\nOFFSITE_CHECK_SUBSET=5%\nOFFSITE_HOST=tracker-host\n' +
      `TIMEOUT_SECONDS=3600\nSTOP_TIMEOUT=1\nMETRICS_DIR=/nonexistent/metrics\nBACKUP_GID=0\n${extra}`,
  );
}

/** load_settings, then stop_tracker on the fake container, as maintenance-backup.sh does. */
async function stop(exitsOn: string) {
  const script = `set -euo pipefail
source "${LIB}/lib.sh"; source "${LIB}/host.sh"
load_settings
TRACKER_IDS=(${ID})
stop_tracker`;
  const result = await execa('bash', ['-c', script], {
    cwd: path.join(dir, 'deploy'),
    reject: false,
    env: { PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`, FAKE_DIR: dir, FAKE_EXITS_ON: exitsOn },
  });
  const calls = readFileSync(path.join(dir, 'calls.log'), 'utf8').split('\n').filter((l) => !l.startsWith('inspect') && l);
  return { ...result, calls };
}

describe('stop_tracker', () => {
  it('sends STOP_SIGNAL (SIGINT) first and needs no kill when the tracker exits on it', async () => {
    conf('STOP_SIGNAL=SIGINT\n');
    const r = await stop('SIGINT');
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.calls).toEqual([`kill --signal SIGINT ${ID}`]);
    expect(r.stdout).toMatch(/INFO: Tracker exited on SIGINT after \d+\.\ds\n.*INFO: Tracker stopped successfully$/);
    expect(r.stdout).not.toContain('WARN');
    // Written before the stop, for a run killed while the tracker is down.
    expect(readFileSync(path.join(dir, 'deploy/storage/backup/etc/tracker-stopped-by-backup'), 'utf8')).toBe(`${ID}\n`);
  });

  it('kills the tracker only after STOP_TIMEOUT when it ignores the signal, and says so', async () => {
    conf('STOP_SIGNAL=SIGTERM\n');
    const r = await stop('SIGINT');
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.calls).toEqual([`kill --signal SIGTERM ${ID}`, `stop --time 0 ${ID}`]);
    expect(r.stdout).toContain('WARN: Tracker still running 1s after SIGTERM; killing it (docker stop --time 0)');
    expect(r.stdout).toMatch(/INFO: Tracker stopped successfully$/);
    expect(r.stdout).not.toContain('exited on');
  });
});

describe('load_settings: STOP_SIGNAL', () => {
  it.each(['SIGKILL', 'INT', 'SIGINT; id', ''])('refuses %j', async (value) => {
    conf(`STOP_SIGNAL=${value}\n`);
    const r = await stop('SIGINT');
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('ERROR: STOP_SIGNAL must be one of SIGINT SIGTERM SIGQUIT SIGHUP SIGUSR1 SIGUSR2');
    expect(r.calls).toEqual([]);
  });

  it('refuses a backup.conf without it, stopping nothing', async () => {
    conf('');
    const r = await stop('SIGINT');
    expect(r.exitCode).toBe(1);
    expect(r.calls).toEqual([]);
  });
});
