import { describe, expect, it } from 'vitest';
import { formatCommand, playbookCommand } from '../../src/ansible/command.js';
import { parseStats, totals } from '../../src/ansible/stats.js';

describe('playbookCommand', () => {
  it.each([
    ['all', false, ['site.yml']],
    ['release', false, ['release.yml']],
    ['run', false, ['run.yml']],
    ['all', true, ['site.yml', '--check', '--diff']],
  ] as const)('phase %s, check %s -> %j', (phase, check, args) => {
    const command = playbookCommand({ projectDir: '/p', phase, check, statsFile: '/tmp/s.json', color: false });
    expect(command.program).toBe('ansible-playbook');
    expect(command.args).toEqual(args);
    expect(command.env).toMatchObject({ TRACKER_BACKUP_STATS_FILE: '/tmp/s.json', ANSIBLE_NOCOLOR: '1', ANSIBLE_CONFIG: '/p/ansible.cfg' });
  });

  it('formats the command as a shell line, quoting what needs it', () => {
    const command = playbookCommand({ projectDir: "/tmp/it's here", phase: 'all', check: true, statsFile: '', color: false });
    expect(formatCommand(command)).toBe("cd '/tmp/it'\\''s here' && ansible-playbook site.yml --check --diff");
  });
});

describe('parseStats', () => {
  it('reads hosts and the files the run phase reported', () => {
    const stats = parseStats(
      JSON.stringify({
        hosts: { a: { ok: 5, changed: 2, failures: 0, unreachable: 0, skipped: 1, rescued: 0, ignored: 0 }, b: { ok: 1, failures: 1 } },
        custom: { a: { tracker_backup_created: ['/x/sqlite_1.db.gz'] }, _run: {} },
      }),
    );
    expect(stats.created).toEqual({ a: ['/x/sqlite_1.db.gz'] });
    expect(totals(stats)).toMatchObject({ ok: 6, changed: 2, failures: 1 });
  });
});
