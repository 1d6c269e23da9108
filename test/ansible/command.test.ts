import { describe, expect, it } from 'vitest';
import { formatCommand, playbookCommand, refusedAnsibleArg } from '../../src/ansible/command.js';
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

describe('ansible-playbook flags after --', () => {
  it.each([
    [['-K'], ['site.yml', '-K']],
    [['--limit', 'prod-eu'], ['site.yml', '--limit', 'prod-eu']],
    [['-v'], ['site.yml', '-v']],
    [['--tags', 'cron'], ['site.yml', '--tags', 'cron']],
    [['--vault-id', 'prod@prompt'], ['site.yml', '--vault-id', 'prod@prompt']],
    [['--vault-password-file', '/k'], ['site.yml', '--vault-password-file', '/k']],
    [['--ask-vault-pass'], ['site.yml', '--ask-vault-pass']],
    [['--forks', '3'], ['site.yml', '--forks', '3']],
  ])('%j goes after the playbook', (ansibleArgs, args) => {
    expect(playbookCommand({ projectDir: '/p', phase: 'all', check: false, statsFile: '', color: false, ansibleArgs }).args).toEqual(args);
  });

  it("comes after the tool's own --check --diff and --extra-vars", () => {
    const command = playbookCommand({ projectDir: '/p', phase: 'restore', check: true, statsFile: '', color: false, extraVars: { a: 1 }, ansibleArgs: ['-K'] });
    expect(command.args).toEqual(['restore.yml', '--check', '--diff', '--extra-vars', '{"a":1}', '-K']);
  });

  it.each([
    ['-i', 'inventory'],
    ['-ihosts', 'inventory'],
    ['--inventory', 'inventory'],
    ['--inventory=x', 'inventory'],
    ['--inventory-file', 'inventory'],
    ['--inv', 'inventory'],
    ['-C', "tool's own --check"],
    ['-vC', "tool's own --check"],
    ['--check', "tool's own --check"],
    ['-e', 'environment file is the configuration'],
    ['--extra-vars=a=1', 'environment file is the configuration'],
    ['--syntax-check', 'runs no play'],
    ['--list-hosts', 'runs no play'],
    ['--list-tasks', 'runs no play'],
    ['--list-tags', 'runs no play'],
    ['--help', 'runs no play'],
    ['-h', 'runs no play'],
    ['--version', 'runs no play'],
  ])('refuses %s and says why (%s)', (arg, reason) => {
    expect(refusedAnsibleArg(arg)).toContain(reason);
  });

  it.each(['-K', '-vvv', '-Kv', '--limit', 'prod', '-lweb-i', '--diff', '-D', '--forks=3', '--verbose', '--become', '-b', '--ask-vault-pass', '--tags', 'check'])(
    'lets %s through',
    (arg) => {
      expect(refusedAnsibleArg(arg)).toBeUndefined();
    },
  );
});
