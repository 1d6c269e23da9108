// lib/notify.py, the run's alerts and metrics, run with the host's python3 against a real
// HTTP receiver (a node server on 127.0.0.1 that records each ping) and Prometheus's own
// promtool checking the metrics file. The same through a real run on a sandbox target is in
// test/e2e/alerts.test.ts.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

const NOTIFY = path.join(ROOT, 'roles/tracker_backup/files/lib/notify.py');

interface Ping {
  path: string;
  body: string;
}

let server: Server;
let pings: Ping[] = [];
let base: string;
let dir: string;
let urlFile: string;
let metricsDir: string;
/** Status codes the receiver answers with, one per request, then 200. */
let answers: number[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      pings.push({ path: request.url ?? '', body: Buffer.concat(chunks).toString('utf8') });
      response.statusCode = answers.shift() ?? 200;
      response.end('OK');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ping/secret-key-123`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  pings = [];
  answers = [];
  dir = mkdtempSync(path.join(tmpdir(), 'notify-'));
  urlFile = path.join(dir, 'ping-url');
  metricsDir = path.join(dir, 'textfile');
  writeFileSync(urlFile, `${base}\n`, { mode: 0o600 });
  return () => rmSync(dir, { recursive: true, force: true });
});

const SUCCESS = {
  started: '2026-02-10T03:00:00Z',
  finished: '2026-02-10T03:00:07Z',
  stamp: '20260210_030000',
  mode: 'stop',
  result: 'success',
  exit_code: 0,
  tracker_downtime_seconds: 1.2,
  files: [
    { kind: 'sqlite', path: 'sqlite/sqlite_20260210_030000.db.gz', bytes: 4096, sha256: 'a' },
    { kind: 'config', path: 'config/config_20260210_030000.tar.gz', bytes: 512, sha256: 'b' },
  ],
};
const FAILURE = { ...SUCCESS, started: '2026-02-11T03:00:00Z', finished: '2026-02-11T03:00:02Z', result: 'failed', exit_code: 1, files: [] };

async function notify(action: 'start' | 'finish', status?: unknown, extra: string[] = []) {
  return execa('python3', [NOTIFY, action, '--url-file', urlFile, ...extra], { input: status === undefined ? '' : JSON.stringify(status), reject: false });
}

async function finish(status: unknown, code: number, log?: string) {
  const extra = ['--code', String(code), '--metrics-dir', metricsDir];
  if (log !== undefined) {
    writeFileSync(path.join(dir, 'run.log'), log);
    extra.push('--log', path.join(dir, 'run.log'));
  }
  return notify('finish', status, extra);
}

const prom = () => readFileSync(path.join(metricsDir, 'tracker_backup.prom'), 'utf8');
const sample = (text: string, name: string) => text.split('\n').find((l) => l.startsWith(`${name} `))?.split(' ')[1];

describe('alert pings (healthchecks.io conventions)', () => {
  it('start pings <url>/start; a success pings the bare URL with the run log as the body', async () => {
    expect((await notify('start')).exitCode).toBe(0);
    const log = '[2026-02-10 03:00:00] INFO: Starting\n[2026-02-10 03:00:07] INFO: Backup completed successfully\n';
    const result = await finish(SUCCESS, 0, log);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(pings).toEqual([
      { path: '/ping/secret-key-123/start', body: '' },
      { path: '/ping/secret-key-123', body: log },
    ]);
  });

  it('a failed run pings <url>/fail with its ERROR line', async () => {
    await finish(FAILURE, 1, '[2026-02-11 03:00:01] ERROR: Backup failed: the database snapshot did not complete\n');
    expect(pings.map((p) => p.path)).toEqual(['/ping/secret-key-123/fail']);
    expect(pings[0]?.body).toContain('ERROR: Backup failed');
  });

  it('a local success whose off-site copy failed pings /fail and says so first', async () => {
    const offsite = { result: 'failed', message: 'repository locked', last_success: null, snapshot: null, bytes_added: null };
    await finish({ ...SUCCESS, offsite }, 0, 'INFO: done\n');
    expect(pings[0]?.path).toBe('/ping/secret-key-123/fail');
    expect(pings[0]?.body).toBe('Local backup succeeded; the off-site copy FAILED: repository locked\nINFO: done\n');
  });

  it('sends at most the last 10 kB of the log, cut at a line start', async () => {
    const lines = Array.from({ length: 2000 }, (_, i) => `[2026-02-10 03:00:00] INFO: line ${i}\n`).join('');
    await finish(SUCCESS, 0, lines);
    const body = pings[0]?.body ?? '';
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(10_000);
    expect(Buffer.byteLength(body)).toBeGreaterThan(9_900);
    expect(lines.endsWith(body)).toBe(true);
    expect(body.startsWith('[2026-02-10 03:00:00] INFO: line ')).toBe(true);
  });

  it('retries once after an error answer', async () => {
    answers = [503];
    const result = await finish(SUCCESS, 0, 'x\n');
    expect(pings.map((p) => p.path)).toEqual(['/ping/secret-key-123', '/ping/secret-key-123']);
    expect(result.stdout).not.toContain('WARN');
  });

  it('an unreachable receiver is a WARN line that never names the URL, and exit 0', async () => {
    writeFileSync(urlFile, 'http://127.0.0.1:9/ping/secret-key-123');
    const result = await finish(FAILURE, 1, 'x\n');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] WARN: alert ping \(fail\) failed after 2 attempts: .*; the backup's result is unchanged$/m);
    expect(result.stdout + result.stderr).not.toContain('secret-key-123');
  });

  it('without a URL file, no ping and no output', async () => {
    rmSync(urlFile);
    const result = await finish(SUCCESS, 0, 'x\n');
    expect(pings).toEqual([]);
    expect(result.stdout).toBe('');
  });
});

describe('tracker_backup.prom', () => {
  beforeEach(async () => {
    await execa('mkdir', [metricsDir]);
  });

  it('passes promtool check metrics and reports the run', async () => {
    await finish(SUCCESS, 0);
    const text = prom();
    const check = await execa('promtool', ['check', 'metrics'], { input: text, reject: false });
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    expect(check.stdout + check.stderr).toBe('');
    expect(sample(text, 'tracker_backup_last_run_timestamp_seconds')).toBe(String(Date.UTC(2026, 1, 10, 3, 0, 7) / 1000));
    expect(sample(text, 'tracker_backup_last_success_timestamp_seconds')).toBe(String(Date.UTC(2026, 1, 10, 3, 0, 7) / 1000));
    expect(sample(text, 'tracker_backup_last_run_success')).toBe('1');
    expect(sample(text, 'tracker_backup_last_run_duration_seconds')).toBe('7');
    expect(sample(text, 'tracker_backup_last_success_size_bytes{kind="sqlite"}')).toBe('4096');
    expect(sample(text, 'tracker_backup_last_success_size_bytes{kind="config"}')).toBe('512');
    expect(text).not.toContain('offsite');
    expect(statSync(path.join(metricsDir, 'tracker_backup.prom')).mode & 0o777).toBe(0o644);
    expect(readdirSync(metricsDir)).toEqual(['tracker_backup.prom']);
  });

  it('a failed run keeps the last success time and sizes, and reports status 0', async () => {
    await finish(SUCCESS, 0);
    await finish(FAILURE, 1);
    const text = prom();
    expect((await execa('promtool', ['check', 'metrics'], { input: text, reject: false })).exitCode).toBe(0);
    expect(sample(text, 'tracker_backup_last_run_success')).toBe('0');
    expect(sample(text, 'tracker_backup_last_run_exit_code')).toBe('1');
    expect(sample(text, 'tracker_backup_last_run_timestamp_seconds')).toBe(String(Date.UTC(2026, 1, 11, 3, 0, 2) / 1000));
    expect(sample(text, 'tracker_backup_last_success_timestamp_seconds')).toBe(String(Date.UTC(2026, 1, 10, 3, 0, 7) / 1000));
    expect(sample(text, 'tracker_backup_last_success_size_bytes{kind="sqlite"}')).toBe('4096');
  });

  it('with no success ever, the last success is 0 (so the staleness alert fires)', async () => {
    await finish(FAILURE, 1);
    expect(sample(prom(), 'tracker_backup_last_success_timestamp_seconds')).toBe('0');
  });

  it('reports the off-site status and last success when status.json has them', async () => {
    const offsite = { result: 'failed', message: 'x', last_success: '2026-02-09T03:01:00Z', snapshot: null, bytes_added: 1234 };
    await finish({ ...SUCCESS, offsite }, 0);
    const text = prom();
    expect((await execa('promtool', ['check', 'metrics'], { input: text, reject: false })).exitCode).toBe(0);
    expect(sample(text, 'tracker_backup_offsite_last_run_success')).toBe('0');
    expect(sample(text, 'tracker_backup_offsite_last_success_timestamp_seconds')).toBe(String(Date.UTC(2026, 1, 9, 3, 1, 0) / 1000));
    expect(sample(text, 'tracker_backup_offsite_last_run_added_bytes')).toBe('1234');
  });

  it('is not written, and the directory not created, when the directory is missing', async () => {
    rmSync(metricsDir, { recursive: true });
    await finish(SUCCESS, 0);
    expect(() => statSync(metricsDir)).toThrow();
  });
});

describe('the staleness alert rule in docs/monitoring.md', () => {
  it('passes promtool test rules (fires after two schedule intervals without a success)', async () => {
    const result = await execa('promtool', ['test', 'rules', path.join(ROOT, 'test/role/monitoring-rules.test.yml')], { cwd: path.join(ROOT, 'test/role'), reject: false });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('SUCCESS');
  });
});
