import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../helpers.js';

const cli = (argv: string[], env: NodeJS.ProcessEnv = {}) => runMain(argv, { env });

describe('flags after -- are refused when the tool sets them itself', () => {
  it.each([
    ['provision', ['-i', 'hosts'], 'the tool writes its own inventory'],
    ['provision', ['--inventory=hosts'], 'the tool writes its own inventory'],
    ['provision', ['--check'], "use the tool's own --check"],
    ['provision', ['-v', '-C'], "use the tool's own --check"],
    ['restore', ['-e', 'tracker_backup_restore_yes=true'], 'the environment file is the configuration'],
    ['backup', ['--syntax-check'], 'ansible-playbook then runs no play'],
    ['backups', ['--list-hosts'], 'ansible-playbook then runs no play'],
  ])('%s -- %j exits 2 with the reason, before anything runs', async (command, extra, reason) => {
    const run = await cli([command, '--env', 'example', '--', ...extra]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${command}: ${extra.find((a) => a.startsWith('-') && a !== '-v')} after -- is refused: ${reason}`);
    expect(run.stdout).toBe('');
  });

  it.each(['validate', 'render'])('%s runs no ansible-playbook and refuses anything after --', async (command) => {
    const run = await cli([command, '--env', 'example', '--', '-K']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${command}: runs no ansible-playbook, so nothing may follow --`);
  });
});

describe('hints for mistyped flags', () => {
  it.each([
    ['provision', '--chek', 'did you mean --check?'],
    ['restore', '--from-di', 'did you mean --from-dir?'],
    ['validate', '--evn', 'did you mean --env?'],
    ['backups', '--jsno', 'did you mean --json?'],
  ])('%s %s says %s', async (command, flag, hint) => {
    const run = await cli([command, '--env', 'example', flag]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${command}: unknown flag ${flag}; ${hint}`);
    expect(run.stderr).not.toContain("place it at the end of the command after '--'");
  });

  it.each(['-K', '--limit', '--tags', '-v'])('an ansible-playbook flag %s before -- says where it goes', async (flag) => {
    const run = await cli(['provision', '--env', 'example', flag]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`flags for ansible-playbook go after a literal --, as in: npm run provision -- --env <name> -- ${flag}`);
  });

  it('npm run x --env y (npm kept --env) suggests the command with --', async () => {
    const run = await cli(['restore'], { npm_config_env: 'prod', npm_config_yes: 'true', npm_config_at: '20260101_000000' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('npm took --env itself (npm_config_env is set): did you mean `npm run restore -- --env prod --at 20260101_000000 --yes`?');
  });

  it('npm run provision --env prod -- -K (npm kept --env, the CLI got -K) suggests both', async () => {
    const run = await cli(['provision', '-K'], { npm_config_env: 'prod' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('did you mean `npm run provision -- --env prod -K`?');
  });

  it('npm_config_env is not mentioned when --env did reach the CLI', async () => {
    const run = await cli(['validate', '--env', 'example', '--bogus'], { npm_config_env: 'prod' });
    expect(run.code).toBe(2);
    expect(run.stderr).not.toContain('npm took --env');
  });

  it('without npm_config_env a missing --env gives no npm hint', async () => {
    const run = await cli(['validate']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('validate: --env <name|path> is required\n');
  });
});

describe('the passed-through flags reach ansible-playbook', () => {
  // A stand-in ansible-playbook that records its arguments, one per line.
  const dir = mkdtempSync(path.join(tmpdir(), 'tb-flags-'));
  const argsFile = path.join(dir, 'args.txt');
  const savedPath = process.env.PATH;
  beforeAll(() => {
    writeFileSync(path.join(dir, 'ansible-playbook'), `#!/bin/sh\nprintf '%s\\n' "$@" > '${argsFile}'\n`);
    chmodSync(path.join(dir, 'ansible-playbook'), 0o755);
    process.env.PATH = `${dir}:${savedPath ?? ''}`;
  });
  afterAll(() => {
    process.env.PATH = savedPath;
  });

  it.each([
    [['provision', '--check'], ['site.yml', '--check', '--diff', '-K', '--limit', 'example']],
    [['backup'], ['backup.yml', '-K', '--limit', 'example']],
    [['restore', '--at', 'latest'], ['restore.yml', '--extra-vars', '{"tracker_backup_restore_at":"latest","tracker_backup_restore_only":"all","tracker_backup_restore_yes":false}', '-K', '--limit', 'example']],
    [['restore', '--from', 'offsite'], ['restore.yml', '--extra-vars', '{"tracker_backup_restore_at":"latest","tracker_backup_restore_only":"all","tracker_backup_restore_yes":false,"tracker_backup_restore_from":"offsite"}', '-K', '--limit', 'example']],
  ])('%j ... -- -K --limit example runs %j', async (command, args) => {
    const [name = '', ...own] = command;
    const run = await cli([name, ...own, '--env', 'example', '--out', path.join(mkdtempSync(path.join(tmpdir(), 'tb-out-')), 'p'), '--', '-K', '--limit', 'example']);
    expect(readFileSync(argsFile, 'utf8').trimEnd().split('\n')).toEqual(args);
    expect(run.stdout).toContain(`ansible-playbook ${args.slice(0, 1).join(' ')}`);
    expect(run.stdout).toMatch(/ -K --limit example\n/);
  });
});

describe('--help', () => {
  it.each(['provision', 'backup', 'backups', 'restore'])('%s --help says what follows -- and what is refused', async (command) => {
    const run = await cli([command, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('[-- ANSIBLE-FLAGS]');
    expect(run.stdout).toContain('Everything after -- (with npm run, the second --) goes to ansible-playbook');
    expect(run.stdout).toContain('-i/--inventory (the\ntool writes the inventory)');
  });
});
