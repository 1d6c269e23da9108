// The tracker's shutdown (issue 10 §5). torrust/tracker runs as PID 1 with no init and
// exits only on SIGINT; as PID 1 without a SIGTERM handler it ignores `docker stop`'s
// SIGTERM and is killed only when the grace period ends. The stand-in does the same, and
// a stop-mode run sends the tracker backup.tracker_stop_signal (SIGINT) first, killing it
// only when it is still running tracker_stop_timeout seconds later.
//
// Real: sshd, cron, Docker and compose, the role. Stand-in: the tracker service.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, envVariant, lastStatus, onTarget, runMaintenance, sandboxDown, sandboxUp, trackerRunning, waitFor, type Sandbox } from './sandbox.js';

let sandbox: Sandbox | undefined;
const measured: Record<string, unknown> = {};

function target(): Sandbox {
  if (!sandbox) throw new Error('sandbox was not created');
  return sandbox;
}

async function sh(script: string): Promise<string> {
  const run = await onTarget(target(), script);
  if (run.exitCode !== 0) throw new Error(`on target: ${script}\n${run.stdout}${run.stderr}`);
  return run.stdout.trim();
}

const TRACKER = 'id=$(docker-compose ps -q tracker)';

async function torrents(): Promise<number> {
  return Number(await sh('sqlite3 -readonly storage/tracker/lib/database/tracker.db "SELECT COUNT(*) FROM torrents;"'));
}

/** One maintenance run as cron runs it; its exit code and the log lines it wrote. */
async function maintenance(): Promise<{ code: number; log: string }> {
  const before = Number(await sh('wc -l </var/log/tracker-backup.log'));
  const code = await runMaintenance(target());
  return { code, log: await sh(`tail -n +${before + 1} /var/log/tracker-backup.log`) };
}

beforeAll(async () => {
  sandbox = await sandboxUp('trackerstop');
  const run = await cli(['provision', '--env', target().envFile], target());
  if (run.exitCode !== 0) throw new Error('provision failed');
});

afterAll(async () => {
  await sandboxDown(sandbox);
  process.stdout.write(`tracker-stop measurements: ${JSON.stringify(measured)}\n`);
});

describe('the stand-in tracker stops as torrust/tracker does', () => {
  it('runs as PID 1 with no init, and its compose service sets neither init nor stop_signal', async () => {
    expect(await sh(`${TRACKER}; docker inspect -f '{{.HostConfig.Init}}' "$id"`)).not.toBe('true');
    expect(await sh(`${TRACKER}; docker exec "$id" cat /proc/1/cmdline | tr '\\0' ' '`)).toMatch(/^bash \/usr\/local\/bin\/standin-tracker\s*$/);
    expect(await sh(`${TRACKER}; docker inspect -f '{{.Config.StopSignal}}' "$id"`)).toBe('');
    expect(await sh('cat docker-compose.yml')).not.toMatch(/^\s*(init|stop_signal):/m);
  });

  it('ignores SIGTERM: the same container keeps running and writing', async () => {
    const startedAt = await sh(`${TRACKER}; docker inspect -f '{{.State.StartedAt}}' "$id"`);
    await sh(`${TRACKER}; docker kill --signal SIGTERM "$id" >/dev/null`);
    const afterTerm = await torrents();
    expect(await waitFor(60, async () => (await torrents()) >= afterTerm + 5)).toBe(true);
    expect(await trackerRunning(target())).toBe(true);
    expect(await sh(`${TRACKER}; docker inspect -f '{{.State.StartedAt}}' "$id"`)).toBe(startedAt);
  });

  it('exits cleanly on SIGINT (exit code 0, its own shutdown line), and stays stopped until started', async () => {
    const exit = await sh(`${TRACKER}; docker kill --signal SIGINT "$id" >/dev/null; docker wait "$id"`);
    expect(exit).toBe('0');
    expect(await sh(`${TRACKER}; docker logs --tail 5 "$id" 2>&1`)).toMatch(/INFO: signal received, stopping after \d+ inserts/);
    expect(await trackerRunning(target())).toBe(false);
    await sh(`${TRACKER}; docker start "$id" >/dev/null`);
    expect(await waitFor(30, () => trackerRunning(target()))).toBe(true);
  });
});

describe('a stop-mode run', () => {
  it('stops the tracker with SIGINT and does not need the kill', async () => {
    const { code, log } = await maintenance();
    expect(code, log).toBe(0);
    expect(log).toMatch(/INFO: Stopping tracker container\.\.\.\n.*INFO: Tracker exited on SIGINT after \d+\.\ds\n.*INFO: Tracker stopped successfully\n/);
    expect(log).not.toContain('killing it');
    expect(log).toMatch(/INFO: Tracker started successfully \(down for \d+\.\ds\)/);
    const status = await lastStatus(target());
    expect(status).toMatchObject({ result: 'success', mode: 'stop' });
    measured.downtime_sigint_s = status.tracker_downtime_seconds;
    expect(await trackerRunning(target())).toBe(true);
  });

  it('with tracker_stop_signal "SIGTERM" the tracker ignores it, and the kill after tracker_stop_timeout is logged', async () => {
    const env = envVariant(target(), 'sigterm', (e) => {
      e.backup.tracker_stop_signal = 'SIGTERM';
      e.backup.tracker_stop_timeout = 2;
    });
    const provision = await cli(['provision', '--env', env], target());
    expect(provision.exitCode).toBe(0);
    expect(await sh('grep -E "^STOP_(SIGNAL|TIMEOUT)=" storage/backup/etc/backup.conf')).toBe('STOP_TIMEOUT=2\nSTOP_SIGNAL=SIGTERM');
    const { code, log } = await maintenance();
    expect(code, log).toBe(0);
    expect(log).toMatch(/WARN: Tracker still running 2s after SIGTERM; killing it \(docker stop --time 0\)\n.*INFO: Tracker stopped successfully\n/);
    expect(log).not.toContain('exited on');
    expect(log).toMatch(/INFO: Tracker started successfully \(down for \d+\.\ds\)/);
    const status = await lastStatus(target());
    expect(status).toMatchObject({ result: 'success', mode: 'stop' });
    measured.downtime_sigterm_timeout2_s = status.tracker_downtime_seconds;
    expect(await trackerRunning(target())).toBe(true);
  });
});
