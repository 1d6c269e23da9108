// Which group may read backups and the log: the role's own lookup tasks (storage.yml),
// run by the real ansible-playbook against this machine (connection local), and the
// BACKUP_GID line of backup.conf they feed.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../helpers.js';

const LOOKUP = [
  "Deploy user's account is looked up (its primary group may read backups and the log)",
  'Group that may read backups and the log is looked up',
  'That group exists on the host',
  'Its numeric id is what backup.conf and the host scripts use',
];

/** Runs the lookup tasks with these host variables; returns the BACKUP_GID line backup.conf gets. */
async function backupGid(hostVars: Record<string, unknown>): Promise<{ exitCode: number; line: string; output: string }> {
  const base = mkdtempSync(path.join(tmpdir(), 'tb-group-'));
  const tasks = parse(readFileSync(path.join(ROOT, 'roles/tracker_backup/tasks/storage.yml'), 'utf8')) as Record<string, unknown>[];
  const lookup = LOOKUP.map((name) => tasks.find((task) => task.name === name));
  expect(lookup.every(Boolean), 'the lookup tasks are in storage.yml').toBe(true);
  const template = readFileSync(path.join(ROOT, 'roles/tracker_backup/templates/backup.conf.j2'), 'utf8');
  const play = {
    name: 'The role group lookup alone',
    hosts: 'target',
    gather_facts: false,
    tasks: [
      ...lookup,
      { name: 'backup.conf line', 'ansible.builtin.copy': { content: `${template.split('\n').find((l) => l.startsWith('BACKUP_GID='))}\n`, dest: `${base}/line` } },
    ],
  };
  writeFileSync(path.join(base, 'play.yml'), JSON.stringify([play]));
  writeFileSync(
    path.join(base, 'inventory.yml'),
    JSON.stringify({ all: { hosts: { target: { ansible_connection: 'local', ansible_python_interpreter: 'python3', tracker_backup_group: '', ...hostVars } } } }),
  );
  const run = await execa('ansible-playbook', ['-i', 'inventory.yml', 'play.yml'], { cwd: base, reject: false, env: { ANSIBLE_NOCOLOR: '1' } });
  const line = run.exitCode === 0 ? readFileSync(path.join(base, 'line'), 'utf8').trim() : '';
  return { exitCode: run.exitCode ?? 1, line, output: run.stdout + run.stderr };
}

describe('tracker_backup_group', () => {
  it("defaults to the SSH user's primary group, written as its number", async () => {
    const result = await backupGid({ ansible_user: 'nobody' });
    expect(result.exitCode, result.output).toBe(0);
    expect(result.line).toBe(`BACKUP_GID=${(await execa('id', ['-g', 'nobody'])).stdout}`);
  });

  it('is root (0) when there is no SSH user, so nobody else reads anything', async () => {
    const result = await backupGid({});
    expect(result.exitCode, result.output).toBe(0);
    expect(result.line).toBe('BACKUP_GID=0');
  });

  it('takes a group name or number given explicitly, and fails on one the host does not have', async () => {
    const byName = await backupGid({ ansible_user: 'nobody', tracker_backup_group: 'adm' });
    expect(byName.exitCode, byName.output).toBe(0);
    expect(byName.line).toBe(`BACKUP_GID=${(await execa('getent', ['group', 'adm'])).stdout.split(':')[2]}`);
    const byNumber = await backupGid({ tracker_backup_group: '4' });
    expect(byNumber.line).toBe('BACKUP_GID=4');
    const missing = await backupGid({ tracker_backup_group: 'no-such-group-tb' });
    expect(missing.exitCode).not.toBe(0);
    expect(missing.output).toContain('group no-such-group-tb does not exist on target');
  });
});
