// Alerts and metrics on a real target (issue 12, requirements 4 and 5): runs go through
// /usr/local/bin/maintenance-backup.sh as cron runs them, and ping an HTTP receiver in its
// own container on the Docker network the target is on, which records each ping's path and
// body. The metrics file the run writes is checked with Prometheus's promtool.
//
// Real: sshd, Docker and compose, python3 on the target, an HTTP server, promtool.
// Stand-in: the tracker service.
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pingReceiver, pings as receiverPings } from './receiver.js';
import { cli, envVariant, lastStatus, onTarget, runMaintenance, sandboxDown, sandboxUp, type Sandbox } from './sandbox.js';

const KEY = `key-${process.pid}-9f3c`;
const TEXTFILE_DIR = '/var/lib/prometheus/node-exporter';
const RECEIVER = `tbsandbox-alerts-${process.pid}-receiver`;

let sandbox: Sandbox | undefined;
let provisionOutput = '';
let alertsEnv = '';

function target(): Sandbox {
  if (!sandbox) throw new Error('sandbox was not created');
  return sandbox;
}

const pings = () => receiverPings(RECEIVER);

async function prom(): Promise<string> {
  return (await onTarget(target(), `cat ${TEXTFILE_DIR}/tracker_backup.prom`)).stdout + '\n';
}

const sample = (text: string, name: string) => text.split('\n').find((l) => l.startsWith(`${name} `))?.split(' ')[1];

beforeAll(async () => {
  sandbox = await sandboxUp('alerts');
  const receiver = await pingReceiver(RECEIVER, `tbsandbox-${target().name}`);
  alertsEnv = envVariant(target(), 'alerts', (e) => {
    e.backup.alerts = { ping_url: `${receiver}/ping/${KEY}` };
  });
  const run = await cli(['provision', '--env', alertsEnv], target());
  provisionOutput = run.stdout + run.stderr;
  if (run.exitCode !== 0) throw new Error('provision failed');
  // node_exporter's package creates it; the role never does.
  await onTarget(target(), `mkdir -p ${TEXTFILE_DIR}`);
}, 600_000);

afterAll(async () => {
  await execa('docker', ['rm', '-f', RECEIVER], { reject: false });
  await sandboxDown(sandbox);
});

describe('the ping URL on the host', () => {
  it('is in a 0600 root file, not in backup.conf, and never in the provision output', async () => {
    const file = await onTarget(target(), 'stat -c "%a %U %G" storage/backup/etc/ping-url; grep -c "" storage/backup/etc/ping-url; grep -rl ping/ storage/backup/etc/backup.conf || true');
    expect(file.stdout.split('\n')).toEqual(['600 root root', '1']);
    expect(provisionOutput).not.toContain(KEY);
  });

  it('a second provision reports changed=0 and still never shows it', async () => {
    const run = await cli(['provision', '--env', alertsEnv], target());
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/hosts: 1, changed: 0, failed: 0/);
    expect(run.stdout + run.stderr).not.toContain(KEY);
  });
});

describe('a run with alerts and metrics', () => {
  it('a successful run pings /start, then the bare URL with the log tail; the .prom passes promtool', async () => {
    // Provision's first backup pinged too; only this run's pings count.
    const count = (await pings()).length;
    expect(await runMaintenance(target())).toBe(0);
    const got = (await pings()).slice(count);
    expect(got.map((p) => p.path)).toEqual([`/ping/${KEY}/start`, `/ping/${KEY}`]);
    expect(got[1]?.body).toMatch(/^\[[-0-9 :]+\] INFO: Backup completed successfully$/m);
    expect(got[1]?.body).toMatch(/Backup maintenance completed \(exit code: 0\)\n$/);
    const text = await prom();
    const check = await execa('promtool', ['check', 'metrics'], { input: text, reject: false });
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    const status = await lastStatus(target());
    expect(sample(text, 'tracker_backup_last_run_success')).toBe('1');
    expect(Number(sample(text, 'tracker_backup_last_success_timestamp_seconds'))).toBe(Date.parse(status.finished) / 1000);
    const sqliteBytes = status.files.find((f) => f.path.startsWith('sqlite/'))?.bytes;
    expect(sample(text, 'tracker_backup_last_success_size_bytes{kind="sqlite"}')).toBe(String(sqliteBytes));
    const mode = await onTarget(target(), `stat -c %a ${TEXTFILE_DIR}/tracker_backup.prom; ls -A ${TEXTFILE_DIR}; ls -A storage/backup/etc`);
    expect(mode.stdout.split('\n').slice(0, 2)).toEqual(['644', 'tracker_backup.prom']);
    expect(mode.stdout).not.toContain('.run-log');
    process.stdout.write(`alerts e2e: success body:\n${got[1]?.body}\nmetrics:\n${text}`);
  });

  it('a failing run (database not found) pings /fail with the ERROR line; the metrics keep the last success', async () => {
    const before = sample(await prom(), 'tracker_backup_last_success_timestamp_seconds');
    const count = (await pings()).length;
    // The stand-in tracker would recreate a database moved away; a wrong path cannot be.
    await onTarget(target(), "sed -i 's|^SQLITE_PATH=\\(.*\\)$|SQLITE_PATH=\\1.missing|' storage/backup/etc/backup.conf");
    try {
      expect(await runMaintenance(target())).toBe(1);
    } finally {
      await onTarget(target(), "sed -i 's|^SQLITE_PATH=\\(.*\\)\\.missing$|SQLITE_PATH=\\1|' storage/backup/etc/backup.conf");
    }
    const got = (await pings()).slice(count);
    expect(got.map((p) => p.path)).toEqual([`/ping/${KEY}/start`, `/ping/${KEY}/fail`]);
    expect(got[1]?.body).toMatch(/^\[[-0-9 :]+\] ERROR: SQLite database not found at .*$/m);
    expect(got[1]?.body).toMatch(/Backup maintenance completed \(exit code: 1\)\n$/);
    const text = await prom();
    expect((await execa('promtool', ['check', 'metrics'], { input: text, reject: false })).exitCode).toBe(0);
    expect(sample(text, 'tracker_backup_last_run_success')).toBe('0');
    expect(sample(text, 'tracker_backup_last_success_timestamp_seconds')).toBe(before);
    process.stdout.write(`alerts e2e: failure body:\n${got[1]?.body}\nmetrics:\n${text}`);
  });

  it('with the receiver unreachable, the backup still exits 0, with a WARN line and no URL in the log', async () => {
    // A closed port on the target itself: a stopped receiver's address could be handed to
    // another container meanwhile (CI runs e2e lanes side by side), which would answer.
    const url = 'storage/backup/etc/ping-url';
    await onTarget(target(), `cp -p ${url} ${url}.keep && sed -i 's|^http://[^/]*|http://127.0.0.1:9|' ${url}`);
    await onTarget(target(), ': > /var/log/tracker-backup.log');
    try {
      expect(await runMaintenance(target())).toBe(0);
    } finally {
      await onTarget(target(), `mv -f ${url}.keep ${url}`);
    }
    const log = (await onTarget(target(), 'cat /var/log/tracker-backup.log')).stdout;
    expect(log).toMatch(/^\[[-0-9 :]+\] WARN: alert ping \(start\) failed after 2 attempts: .*; the backup's result is unchanged$/m);
    expect(log).toMatch(/^\[[-0-9 :]+\] WARN: alert ping \(success\) failed after 2 attempts: .*$/m);
    expect(log).not.toContain(KEY);
    process.stdout.write(`alerts e2e: unreachable receiver:\n${log}\n`);
    expect((await lastStatus(target())).result).toBe('success');
  });
});
