// files/probe.py, the one read-only round trip of a provision (tasks/requirements.yml):
// run here with python3 -c as the role runs it, on files in a temporary directory.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

const PROBE = readFileSync(path.join(ROOT, 'roles/tracker_backup/files/probe.py'), 'utf8');

interface Answer {
  files: Record<string, string | null>;
  lines: Record<string, string[] | null>;
  cron: string | null;
  deploy_dir: boolean;
  missing: string[];
  image: boolean;
}

async function probe(request: Record<string, unknown>): Promise<Answer> {
  const run = await execa('python3', ['-c', PROBE], { input: JSON.stringify({ stat: [], hash: [], list: [], lines: {}, image: '', make_tmp: false, ...request }) });
  return JSON.parse(run.stdout) as Answer;
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

describe('the host probe', () => {
  it('reports type, mode, owner and (when asked) the sha256 of each path; null for a missing one; a link is not followed', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tb-probe-'));
    writeFileSync(path.join(dir, 'script'), 'echo hi\n');
    chmodSync(path.join(dir, 'script'), 0o750);
    mkdirSync(path.join(dir, 'lib'), { mode: 0o700 });
    writeFileSync(path.join(dir, 'lib', 'a.sh'), 'a\n');
    chmodSync(path.join(dir, 'lib', 'a.sh'), 0o640);
    symlinkSync(path.join(dir, 'script'), path.join(dir, 'link'));
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    const answer = await probe({
      deploy_dir: dir,
      cron: path.join(dir, 'link'),
      stat: [path.join(dir, 'lib'), path.join(dir, 'absent')],
      hash: [path.join(dir, 'script'), path.join(dir, 'link')],
      list: [path.join(dir, 'lib')],
    });
    expect(answer.files[path.join(dir, 'script')]).toBe(`f 750 ${uid} ${gid} ${sha('echo hi\n')}`);
    expect(answer.files[path.join(dir, 'lib')]).toBe(`d 700 ${uid} ${gid}`);
    expect(answer.files[path.join(dir, 'lib', 'a.sh')]).toBe(`f 640 ${uid} ${gid} ${sha('a\n')}`);
    expect(answer.files[path.join(dir, 'absent')]).toBeNull();
    expect(answer.files[path.join(dir, 'link')]).toBe(`o 777 ${uid} ${gid}`);
    // A cron file that is a link is not read (the role's stat did not follow it either).
    expect(answer.cron).toBeNull();
    expect(answer.deploy_dir).toBe(true);
  });

  it('returns only the lines of .env it is asked about, never the rest (the deployment\'s secrets)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tb-probe-'));
    writeFileSync(path.join(dir, '.env'), 'MYSQL_ROOT_PASSWORD=hunter2\nCOMPOSE_FILE=a.yml:b.yml\nTOKEN=s3cret\n');
    const answer = await probe({ deploy_dir: path.join(dir, 'none'), cron: path.join(dir, 'none'), lines: { [path.join(dir, '.env')]: 'COMPOSE_FILE=', [path.join(dir, 'gone')]: 'X=' } });
    expect(answer.lines[path.join(dir, '.env')]).toEqual(['COMPOSE_FILE=a.yml:b.yml']);
    expect(answer.lines[path.join(dir, 'gone')]).toBeNull();
    expect(JSON.stringify(answer)).not.toMatch(/hunter2|s3cret/);
    expect(answer.deploy_dir).toBe(false);
  });
});
