// scripts/lint-bools.py on a copy of the role and playbooks: it passes the real ones and
// flags a boolean variable planted without `| bool`, in every place Jinja reads one.
import { appendFileSync, cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

const SCRIPT = path.join(ROOT, 'scripts/lint-bools.py');

/** A copy of roles/ and playbooks/ to plant findings in. */
function copyOfRepo(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'tb-lint-bools-'));
  for (const dir of ['roles', 'playbooks']) cpSync(path.join(ROOT, dir), path.join(root, dir), { recursive: true });
  return root;
}

async function lint(root: string) {
  return execa('python3', [SCRIPT, root], { reject: false });
}

describe('lint-bools.py', () => {
  it('passes the role and playbooks as they are', async () => {
    const result = await lint(ROOT);
    expect(result.stdout).toBe('');
    expect(result.exitCode).toBe(0);
  });

  it.each([
    ['roles/tracker_backup/tasks/cron.yml', '\n- name: Planted\n  ansible.builtin.debug:\n  when: tracker_backup_enabled\n', 'tracker_backup_enabled'],
    ['roles/tracker_backup/tasks/cron.yml', '\n- name: Planted\n  ansible.builtin.debug:\n  when:\n    - not tracker_backup_run_initial\n', 'tracker_backup_run_initial'],
    ['roles/tracker_backup/tasks/restore.yml', '\n- name: Planted\n  ansible.builtin.command:\n    argv: "{{ [\'x\'] + ([\'--yes\'] if tracker_backup_restore_yes else []) }}"\n  changed_when: false\n', 'tracker_backup_restore_yes'],
    ['roles/tracker_backup/tasks/restore.yml', '\n- name: Planted\n  ansible.builtin.command: /bin/true\n  changed_when: tracker_backup_restore_yes and true\n', 'tracker_backup_restore_yes'],
    ['roles/tracker_backup/templates/backup.conf.j2', '{% if tracker_backup_enabled %}ENABLED=1{% endif %}\n', 'tracker_backup_enabled'],
    ['playbooks/site.yml', '\n- name: Planted\n  ansible.builtin.import_playbook: run.yml\n  when: tracker_backup_enabled or false\n', 'tracker_backup_enabled'],
  ])('flags a bare use planted in %s', async (file, planted, name) => {
    const root = copyOfRepo();
    const lineCount = readFileSync(path.join(root, file), 'utf8').split('\n').length;
    appendFileSync(path.join(root, file), planted);
    const result = await lint(root);
    expect(result.exitCode).toBe(1);
    const findings = result.stdout.split('\n');
    expect(findings).toHaveLength(1);
    const line = Number(/^[^:]+:(\d+): /.exec(findings[0] as string)?.[1]);
    expect(findings[0]).toContain(`${file}:`);
    expect(findings[0]).toContain(`${name} is used without '| bool'`);
    expect(line).toBeGreaterThanOrEqual(lineCount);
  });

  it('accepts every spelling of the conversion and a vars key that defines the name', async () => {
    const root = copyOfRepo();
    appendFileSync(
      path.join(root, 'roles/tracker_backup/tasks/cron.yml'),
      [
        '',
        '- name: Converted',
        '  ansible.builtin.debug:',
        '  vars:',
        '    tracker_backup_enabled: "{{ tracker_backup_run_initial|bool }}"',
        '  when:',
        '    - tracker_backup_enabled | ansible.builtin.bool',
        '    - (tracker_backup_restore_yes',
        '       | bool)',
        '',
      ].join('\n'),
    );
    const result = await lint(root);
    expect(result.stdout).toBe('');
    expect(result.exitCode).toBe(0);
  });

  it('reads the boolean names from argument_specs, so a new bool option is checked too', async () => {
    const root = copyOfRepo();
    const specs = path.join(root, 'roles/tracker_backup/meta/argument_specs.yml');
    writeFileSync(
      specs,
      readFileSync(specs, 'utf8').replace(
        '    options: &tracker_backup_options\n',
        '    options: &tracker_backup_options\n      tracker_backup_planted:\n        type: bool\n        default: false\n        description: planted\n',
      ),
    );
    appendFileSync(path.join(root, 'roles/tracker_backup/tasks/cron.yml'), '\n- name: Planted\n  ansible.builtin.debug:\n  when: tracker_backup_planted\n');
    const result = await lint(root);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain("tracker_backup_planted is used without '| bool'");
  });
});
