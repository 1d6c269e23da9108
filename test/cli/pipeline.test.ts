// The pipeline every Ansible command shares: one rule for "a host failed" (judgeRun), and
// --json: one document on stdout, everything else on stderr, exit codes unchanged. Ansible
// is a stand-in here that writes a chosen recap where the stats callback would.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { judgeRun, parseStats, type HostStats, type PlayStats } from '../../src/ansible/stats.js';
import { exampleEnv, ROOT, runMain, withValue } from '../helpers.js';

function recap(partial: Partial<HostStats> = {}): HostStats {
  return { ok: 5, changed: 0, failures: 0, unreachable: 0, skipped: 0, rescued: 0, ignored: 0, ...partial };
}

function stats(hosts: Record<string, HostStats>, extra: Partial<PlayStats> = {}): PlayStats {
  return { hosts, created: {}, custom: {}, ...extra };
}

describe('judgeRun: the one rule for a failed host', () => {
  const named = ['fleet-eu', 'fleet-us'];

  it('a host the play was meant for that is missing from the recap failed', () => {
    const outcome = judgeRun(stats({ 'fleet-eu': recap() }), named, 0);
    expect(outcome.failed).toEqual(['fleet-us']);
    expect(outcome.hosts[1]).toEqual({ name: 'fleet-us', state: 'failed', reason: "not in Ansible's recap" });
    expect(outcome.ok).toBe(false);
  });

  it('an unreachable host failed, a host with a failed task failed', () => {
    const outcome = judgeRun(stats({ 'fleet-eu': recap({ unreachable: 1, ok: 0 }), 'fleet-us': recap({ failures: 1 }) }), named, 2);
    expect(outcome.hosts.map((h) => [h.name, h.state, h.reason])).toEqual([
      ['fleet-eu', 'failed', 'unreachable'],
      ['fleet-us', 'failed', 'a task failed'],
    ]);
  });

  it('a rescued or ignored failure is not a failed host', () => {
    const outcome = judgeRun(stats({ 'fleet-eu': recap({ rescued: 1 }), 'fleet-us': recap({ ignored: 2 }) }), named, 0);
    expect(outcome).toMatchObject({ failed: [], ok: true });
    expect(outcome.hosts.map((h) => h.state)).toEqual(['ok', 'ok']);
  });

  it('hosts --limit left out (not among the targets the callback names) are excluded, not failed', () => {
    const outcome = judgeRun(stats({ 'fleet-eu': recap() }, { targets: ['fleet-eu'] }), named, 0);
    expect(outcome.hosts[1]).toEqual({ name: 'fleet-us', state: 'excluded', reason: 'left out by --limit' });
    expect(outcome).toMatchObject({ failed: [], ok: true });
  });

  it('a target missing from the recap still fails when --limit named it', () => {
    const outcome = judgeRun(stats({}, { targets: ['fleet-us'] }), named, 2);
    expect(outcome.failed).toEqual(['fleet-us']);
    expect(outcome.hosts[0]?.state).toBe('excluded');
  });

  it('no recap at all: every named host failed', () => {
    const outcome = judgeRun(undefined, named, 4);
    expect(outcome.failed).toEqual(named);
    expect(outcome.hosts[0]?.reason).toBe('Ansible stopped before its recap');
  });

  it('a non-zero exit with every host ok is still not ok', () => {
    expect(judgeRun(stats({ 'fleet-eu': recap(), 'fleet-us': recap() }), named, 2)).toMatchObject({ failed: [], ok: false });
  });
});

// A stand-in ansible-playbook: noise on its stdout and stderr (which --json must keep off
// stdout), the recap from $FAKE_ANSIBLE_STATS written where the callback writes it, and
// $FAKE_ANSIBLE_RC as its exit code.
const bin = mkdtempSync(path.join(tmpdir(), 'tb-pipeline-bin-'));
const work = mkdtempSync(path.join(tmpdir(), 'tb-pipeline-'));
const NOISE_OUT = 'PLAY RECAP (stand-in stdout)';
const NOISE_ERR = '[WARNING]: stand-in stderr';
const savedPath = process.env.PATH;

beforeAll(() => {
  writeFileSync(
    path.join(bin, 'ansible-playbook'),
    `#!/bin/sh\necho '${NOISE_OUT}'\necho '${NOISE_ERR}' >&2\nif [ -n "$FAKE_ANSIBLE_STATS" ]; then printf '%s' "$FAKE_ANSIBLE_STATS" > "$TRACKER_BACKUP_STATS_FILE"; fi\nexit "\${FAKE_ANSIBLE_RC:-0}"\n`,
  );
  chmodSync(path.join(bin, 'ansible-playbook'), 0o755);
  process.env.PATH = `${bin}:${savedPath ?? ''}`;
  mkdirSync(path.join(work, 'envs'));
  const fleet = withValue(withValue(withValue(exampleEnv(), 'environment.name', 'fleet'), 'instance', undefined), 'instances', [
    { name: 'eu', host: '198.51.100.1' },
    { name: 'us', host: '198.51.100.2' },
  ]);
  writeFileSync(path.join(work, 'envs/fleet.json'), JSON.stringify(fleet));
  writeFileSync(path.join(work, 'envs/bad.json'), JSON.stringify(withValue(exampleEnv(), 'backup.retention_days', 0)));
});

afterAll(() => {
  process.env.PATH = savedPath;
  delete process.env.FAKE_ANSIBLE_STATS;
  delete process.env.FAKE_ANSIBLE_RC;
});

/** The CLI in-process against the stand-in, which reports `report` and exits `rc`. */
async function withAnsible(argv: string[], report: object | undefined, rc = 0) {
  if (report) process.env.FAKE_ANSIBLE_STATS = JSON.stringify(report);
  else delete process.env.FAKE_ANSIBLE_STATS;
  process.env.FAKE_ANSIBLE_RC = String(rc);
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'tb-pipeline-out-')), 'p');
  return runMain([...argv, '--out', out], { cwd: work, projectDir: work });
}

/** stdout is exactly one JSON document (JSON.parse refuses anything before or after it). */
function onlyJson(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout) as Record<string, unknown>;
}

const bothOk = { hosts: { 'fleet-eu': recap(), 'fleet-us': recap() } };

describe('every command applies the rule the same way', () => {
  it.each(['provision', 'backup', 'backups', 'restore'])('%s: Ansible exits 0 but a host is missing from the recap: exit 1, that host failed', async (command) => {
    const run = await withAnsible([command, '--env', 'fleet'], { hosts: { 'fleet-eu': recap() } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${command}: failed on 1 host: fleet-us (not in Ansible's recap)\n`);
    const json = await withAnsible([command, '--env', 'fleet', '--json'], { hosts: { 'fleet-eu': recap() } });
    expect(json.code).toBe(1);
    expect(onlyJson(json.stdout)).toMatchObject({ ok: false, ansibleExitCode: 0, failed: ['fleet-us'] });
  });

  it.each(['provision', 'backup', 'backups', 'restore'])('%s: a rescued failure and an ignored one leave the run ok', async (command) => {
    const run = await withAnsible([command, '--env', 'fleet'], { hosts: { 'fleet-eu': recap({ rescued: 1 }), 'fleet-us': recap({ ignored: 1 }) } });
    expect(run.code).toBe(0);
  });

  it('provision -- --limit fleet-eu: the host left out is "not run", not failed, and the run is ok', async () => {
    const run = await withAnsible(['provision', '--env', 'fleet', '--', '--limit', 'fleet-eu'], { hosts: { 'fleet-eu': recap() }, targets: ['fleet-eu'] });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('  fleet-us: not run  (left out by --limit)');
    expect(run.stdout).toContain('  hosts: 1, changed: 0, failed: 0\n');
  });
});

describe('--json: one document on stdout, the rest on stderr', () => {
  it('provision --json: per host state, recap and files created; the command line and Ansible output on stderr', async () => {
    const created = { 'fleet-eu': { tracker_backup_created: ['/opt/torrust/storage/backup/sqlite/sqlite_20260203_000000.db.gz'] } };
    const run = await withAnsible(['provision', '--env', 'fleet', '--json'], { ...bothOk, hosts: { ...bothOk.hosts, 'fleet-us': recap({ changed: 3 }) }, custom: created });
    expect(run.code).toBe(0);
    const doc = onlyJson(run.stdout);
    expect(doc).toMatchObject({
      schema: 'tracker-backup-cli.provision.v1',
      ok: true,
      ansibleExitCode: 0,
      failed: [],
      check: false,
      phase: 'all',
      hosts: {
        'fleet-eu': { state: 'ok', recap: recap(), created: created['fleet-eu'].tracker_backup_created },
        'fleet-us': { state: 'ok', recap: recap({ changed: 3 }), created: [] },
      },
      nextBackups: { fleet: '2026-02-03T03:00:00.000Z' },
    });
    expect(run.stderr).toContain('Running: cd ');
    expect(run.stderr).toContain(NOISE_OUT);
    expect(run.stderr).toContain(NOISE_ERR);
  });

  it('provision --json with an unreachable host: exit 1 as without --json, and the host says why', async () => {
    const run = await withAnsible(['provision', '--env', 'fleet', '--json'], { hosts: { 'fleet-eu': recap(), 'fleet-us': recap({ unreachable: 1 }) } }, 4);
    expect(run.code).toBe(1);
    expect(onlyJson(run.stdout)).toMatchObject({ ok: false, ansibleExitCode: 4, failed: ['fleet-us'], hosts: { 'fleet-us': { state: 'failed', reason: 'unreachable' } } });
  });

  it('Ansible stopping before its recap still gives one document, every host failed', async () => {
    const run = await withAnsible(['backup', '--env', 'fleet', '--json'], undefined, 1);
    expect(run.code).toBe(1);
    expect(onlyJson(run.stdout)).toMatchObject({ schema: 'tracker-backup-cli.backup.v1', ok: false, failed: ['fleet-eu', 'fleet-us'] });
  });

  it('backup --json: what each host reported, its status and the files it created (exact bytes)', async () => {
    const status = { result: 'success', exit_code: 0, files: [{ path: 'sqlite/sqlite_20260203_000000.db.gz', bytes: 1536, sha256: 'ab' }] };
    const custom = {
      'fleet-eu': { tracker_backup_output: ['[2026-02-03 00:00:00] INFO: Backup maintenance completed (exit code: 0)'], tracker_backup_exit_code: '0', tracker_backup_status: JSON.stringify(status) },
      'fleet-us': { tracker_backup_output: [], tracker_backup_exit_code: 0, tracker_backup_status: status },
    };
    const run = await withAnsible(['backup', '--env', 'fleet', '--json'], { ...bothOk, custom });
    expect(run.code).toBe(0);
    const doc = onlyJson(run.stdout);
    expect(doc).toMatchObject({ schema: 'tracker-backup-cli.backup.v1', ok: true });
    const hosts = doc.hosts as Record<string, Record<string, unknown>>;
    // The status arrives as a string or as a mapping; the document has the mapping either way.
    for (const name of ['fleet-eu', 'fleet-us']) expect(hosts[name]).toMatchObject({ state: 'ok', exitCode: 0, status, files: status.files });
    expect(hosts['fleet-eu']?.output).toEqual(custom['fleet-eu'].tracker_backup_output);
    expect(hosts['fleet-eu']?.reported).toEqual(custom['fleet-eu']);
    expect(run.stderr).toContain(NOISE_OUT);
  });

  it('backups --json passes on each host\'s listing document and adds the schema', async () => {
    const listing = {
      schema: 'tracker-backup.list.v1',
      store: '/opt/torrust/storage/backup',
      backups: [
        {
          kind: 'sqlite',
          path: 'sqlite/sqlite_20260202_000000.db.gz',
          stamp: '20260202_000000',
          taken_at: '2026-02-02T00:00:00Z',
          bytes: 2048,
          sha256: 'a'.repeat(64),
          expected_sha256: null,
          checksum: 'legacy',
        },
      ],
      last_run: null,
    };
    const custom = { 'fleet-eu': { tracker_backup_listing: listing }, 'fleet-us': {} };
    const run = await withAnsible(['backups', '--env', 'fleet', '--json'], { ...bothOk, custom });
    expect(run.code).toBe(0);
    const doc = onlyJson(run.stdout);
    expect(doc).toMatchObject({ schema: 'tracker-backup-cli.backups.v1', ok: true, failed: [] });
    // A host that sent no listing (its task failed or was skipped) shows an empty one.
    expect(doc.hosts).toEqual({
      'fleet-eu': listing,
      'fleet-us': { schema: 'tracker-backup.list.v1', store: '', backups: [], last_run: null },
    });
  });

  it('restore --json: the plan or result each host reported, and the restore script exit code', async () => {
    const custom = {
      'fleet-eu': { tracker_backup_output: ['Would restore sqlite/sqlite_20260202_000000.db.gz over storage/tracker/lib/database/tracker.db'], tracker_backup_exit_code: '0' },
      'fleet-us': { tracker_backup_output: ['checksum of sqlite/sqlite_20260202_000000.db.gz does not match its manifest: refusing'], tracker_backup_exit_code: '1' },
    };
    const run = await withAnsible(['restore', '--env', 'fleet', '--json'], { hosts: { 'fleet-eu': recap(), 'fleet-us': recap({ failures: 1 }) }, custom }, 2);
    expect(run.code).toBe(1);
    expect(onlyJson(run.stdout)).toMatchObject({
      schema: 'tracker-backup-cli.restore.v1',
      ok: false,
      failed: ['fleet-us'],
      dryRun: true,
      at: 'latest',
      only: 'all',
      hosts: {
        'fleet-eu': { state: 'ok', exitCode: 0, output: custom['fleet-eu'].tracker_backup_output },
        'fleet-us': { state: 'failed', reason: 'a task failed', exitCode: 1, output: custom['fleet-us'].tracker_backup_output },
      },
    });
    expect(run.stdout).not.toContain('Dry run: nothing was changed');
  });

  it('validate --json: every file gets its verdict; an invalid one lists path, message and example; exit 1', async () => {
    const run = await runMain(['validate', '--env', 'fleet', '--env', 'bad', '--json'], { cwd: work, projectDir: work });
    expect(run.code).toBe(1);
    const doc = onlyJson(run.stdout);
    expect(doc).toMatchObject({ schema: 'tracker-backup-cli.validate.v1', ok: false });
    const [good, bad] = doc.files as Record<string, unknown>[];
    expect(good).toMatchObject({
      file: 'envs/fleet.json',
      ok: true,
      environment: 'fleet',
      hosts: [{ name: 'fleet-eu', address: '198.51.100.1' }, { name: 'fleet-us', address: '198.51.100.2' }],
      backups: { enabled: true, schedule: '0 3 * * *', nextRuns: ['2026-02-03T03:00:00.000Z', '2026-02-04T03:00:00.000Z', '2026-02-05T03:00:00.000Z'], retentionDays: 7 },
      warnings: [],
    });
    expect(bad).toEqual({ file: 'envs/bad.json', ok: false, errors: [{ path: 'backup.retention_days', message: expect.stringContaining('at least 1') as string, example: '7' }] });
    expect(run.stderr).toContain('backup.retention_days: must be at least 1');
  });

  it('validate --json on valid files: exit 0, ok', async () => {
    const run = await runMain(['validate', '--env', 'fleet', '--json'], { cwd: work, projectDir: work });
    expect(run.code).toBe(0);
    expect(onlyJson(run.stdout)).toMatchObject({ ok: true, files: [{ ok: true }] });
  });
});

describe('--json in a real process', () => {
  it('provision --json: stdout (the file descriptor) holds only the document; Ansible wrote to stderr', async () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'tb-pipeline-out-')), 'p');
    const result = await execa(path.join(ROOT, 'node_modules/.bin/tsx'), [path.join(ROOT, 'src/cli/bin.ts'), 'provision', '--project-dir', work, '--env', 'fleet', '--json', '--out', out], {
      cwd: work,
      reject: false,
      env: { PATH: `${bin}:${savedPath ?? ''}`, FAKE_ANSIBLE_STATS: JSON.stringify(bothOk), FAKE_ANSIBLE_RC: '0' },
    });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(onlyJson(result.stdout)).toMatchObject({ schema: 'tracker-backup-cli.provision.v1', ok: true });
    expect(result.stderr).toContain(NOISE_OUT);
    expect(result.stderr).toContain(NOISE_ERR);
  });
});

describe('the stats callback names the hosts the plays were meant for', () => {
  // Real ansible-playbook (not the stand-in) on three local hosts, one failing.
  const dir = mkdtempSync(path.join(tmpdir(), 'tb-callback-'));
  const statsFile = path.join(dir, 'stats.json');
  beforeAll(() => {
    writeFileSync(path.join(dir, 'inventory.ini'), '[g]\na ansible_connection=local\nb ansible_connection=local\nc ansible_connection=local\n');
    writeFileSync(
      path.join(dir, 'play.yml'),
      '- name: One failing host\n  hosts: g\n  gather_facts: false\n  tasks:\n    - name: Fail on b\n      ansible.builtin.fail:\n      when: inventory_hostname == "b"\n',
    );
  });

  async function targets(limit: string[]): Promise<PlayStats> {
    await execa('ansible-playbook', ['-i', 'inventory.ini', 'play.yml', ...limit], {
      cwd: dir,
      reject: false,
      env: {
        PATH: savedPath,
        ANSIBLE_CALLBACK_PLUGINS: path.join(ROOT, 'playbooks/callback_plugins'),
        ANSIBLE_CALLBACKS_ENABLED: 'tracker_backup_stats',
        TRACKER_BACKUP_STATS_FILE: statsFile,
      },
    });
    return parseStats(readFileSync(statsFile, 'utf8'));
  }

  it('every host without --limit; only the limited ones with it, so the rest are not failed', async () => {
    expect((await targets([])).targets).toEqual(['a', 'b', 'c']);
    const limited = await targets(['--limit', 'a,b']);
    expect(limited.targets).toEqual(['a', 'b']);
    expect(judgeRun(limited, ['a', 'b', 'c'], 2)).toMatchObject({ failed: ['b'], hosts: [{ state: 'ok' }, { state: 'failed' }, { state: 'excluded' }] });
  });
});
