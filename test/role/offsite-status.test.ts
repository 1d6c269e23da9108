// run.sh's off-site step as the run sees it: the container's answer (.offsite-result) read
// as data into status.json's "offsite" object, in the shape schemas/host/status.v1 gives
// and the alerts read; a failure is a WARN line and never the run's exit code; the last
// success is carried over from the previous status.json. The container step itself is
// stubbed here (test/e2e/offsite.test.ts runs it against a real restic REST server).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { beforeEach, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';
import { hostSchemaProblems } from '../host-schema.js';

const LIB = path.join(ROOT, 'roles/tracker_backup/files/lib');

let store: string;

/**
 * Runs offsite_step with the container replaced by one that writes `answer` as its result
 * file (none when null) and exits `code`; returns the object and the log.
 */
async function offsiteStep(answer: string | null, code = 0): Promise<{ offsite: Record<string, unknown>; log: string; status: number }> {
  const script = `
    set -euo pipefail
    for lib in lib layout host store run; do source "$LIB/$lib.sh"; done
    run_backup_container() {
      [[ "$*" == "offsite -e OFFSITE_FIRST_BACKUP=$FIRST_BACKUP -- offsite $STAMP" ]] || { echo "unexpected step: $*" >&2; return 99; }
      [[ -z "$ANSWER_SET" ]] || printf '%s' "$ANSWER" >"$BACKUP_DIR/.offsite-result"
      return "$CODE"
    }
    offsite_step
    printf '%s' "$OFFSITE_JSON" >&3`;
  // host.sh names the store relative to the deploy directory the program runs in.
  const run = await execa('bash', ['-c', `STAMP=20261101_030000; ${script}`], {
    cwd: path.dirname(path.dirname(store)),
    reject: false,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    env: { LIB, ANSWER: answer ?? '', ANSWER_SET: answer === null ? '' : 'yes', CODE: String(code) },
  });
  const fd3 = (run.stdio[3] as string | undefined) ?? '';
  return { offsite: fd3 === '' ? {} : (JSON.parse(fd3) as Record<string, unknown>), log: `${run.stdout}${run.stderr}`, status: run.exitCode ?? -1 };
}

/** status.json's run with `offsite`, as the host schema checks it. */
function statusProblems(offsite: Record<string, unknown>): string[] {
  const run = { started: '2026-11-01T03:00:00Z', finished: '2026-11-01T03:00:09Z', stamp: '20261101_030000', mode: 'stop', result: 'success', exit_code: 0, tracker_downtime_seconds: 0.5, files: [], offsite };
  return hostSchemaProblems('status.v1.schema.json', { schema: 'tracker-backup.status.v1', last_run: run });
}

beforeEach(() => {
  store = path.join(mkdtempSync(path.join(tmpdir(), 'tb-offsite-status-')), 'storage/backup');
  mkdirSync(path.join(store, 'etc/offsite'), { recursive: true });
  writeFileSync(path.join(store, 'etc/offsite/repository'), 'rest:http://backup:8000/x');
});

describe('the off-site step in the run', () => {
  it('success: snapshot, bytes added, last success and check from the container, INFO line, schema-valid', async () => {
    const { offsite, log, status } = await offsiteStep(
      'snapshot=ce7fac54\nbytes_added=9768\nlast_success=2026-11-01T03:00:07Z\ncheck=success\ncheck_at=2026-11-01T03:00:08Z\nresult=success\nmessage=snapshot ce7fac54 saved\n',
    );
    expect(status).toBe(0);
    expect(offsite).toEqual({
      result: 'success',
      message: 'snapshot ce7fac54 saved',
      last_success: '2026-11-01T03:00:07Z',
      snapshot: 'ce7fac54',
      bytes_added: 9768,
      check: { result: 'success', at: '2026-11-01T03:00:08Z' },
    });
    expect(log).toContain('INFO: Off-site copy done: snapshot ce7fac54 saved');
    expect(statusProblems(offsite)).toEqual([]);
  });

  it('skipped (a rebuilt host\'s first backup, not uploaded): recorded as skipped with its reason, not as a failure, schema-valid', async () => {
    writeFileSync(path.join(store, 'status.json'), JSON.stringify({ result: 'success', offsite: { result: 'success', last_success: '2026-10-31T03:00:05Z' } }, null, 2));
    const { offsite, log, status } = await offsiteStep('result=skipped\ncheck=skipped\nmessage=not uploaded: the repository holds snapshots of h from before this host\'s first backup\n');
    expect(status).toBe(0);
    expect(offsite).toMatchObject({ result: 'skipped', message: expect.stringMatching(/^not uploaded: /) as unknown, snapshot: null, last_success: '2026-10-31T03:00:05Z', check: { result: 'skipped', at: null } });
    expect(log).not.toContain('Off-site copy failed');
    expect(statusProblems(offsite)).toEqual([]);
  });

  it('failure: a WARN line, the step still returns 0, the last success carried over from the previous status.json', async () => {
    writeFileSync(path.join(store, 'status.json'), JSON.stringify({ result: 'success', offsite: { result: 'success', last_success: '2026-10-31T03:00:05Z' } }, null, 2));
    const { offsite, log, status } = await offsiteStep('result=failed\nmessage=Off-site upload failed: Fatal: unable to save snapshot\n', 1);
    expect(status).toBe(0);
    expect(log).toMatch(/^\[[-0-9: ]{19}\] WARN: Off-site copy failed: Off-site upload failed: Fatal: unable to save snapshot \(the local backup is kept\)$/m);
    expect(offsite).toEqual({
      result: 'failed',
      message: 'Off-site upload failed: Fatal: unable to save snapshot',
      last_success: '2026-10-31T03:00:05Z',
      snapshot: null,
      bytes_added: null,
      check: { result: 'skipped', at: null },
    });
    expect(statusProblems(offsite)).toEqual([]);
  });

  it('a container that gave no answer (killed, timed out) is a failure, never a success', async () => {
    const { offsite, log } = await offsiteStep(null, 124);
    expect(offsite).toMatchObject({ result: 'failed', message: 'the off-site step gave no result', last_success: null });
    expect(log).toContain('WARN: Off-site copy failed');
    expect(statusProblems(offsite)).toEqual([]);
  });

  it('an answer is data: a result other than success is a failure, a non-numeric byte count is null', async () => {
    const { offsite } = await offsiteStep('result=$(touch pwned)\nbytes_added=12; rm -rf /\nmessage=m\n');
    expect(offsite).toMatchObject({ result: 'failed', bytes_added: null, message: 'm' });
    expect(() => readFileSync(path.join(store, 'pwned'))).toThrow();
  });

  it('without etc/offsite/repository no container runs and the step records nothing itself', async () => {
    rmSync(path.join(store, 'etc/offsite/repository'));
    const { offsite, log, status } = await offsiteStep('result=success\n');
    expect(status).toBe(0);
    expect(log).not.toContain('Off-site');
    expect(offsite).toEqual({});
  });
});
