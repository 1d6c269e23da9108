// The role's contract, checked with the real ansible-playbook on this machine
// (connection local): its public variables, its argument checks and the stats callback
// the CLI reads results from.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { execa } from 'execa';
import { playbookCommand } from '../../src/ansible/command.js';
import { runPlaybook } from '../../src/ansible/run.js';
import { parseStats } from '../../src/ansible/stats.js';
import { parseEnv } from '../../src/env/load.js';
import { renderProject } from '../../src/render/project.js';
import { loadSources } from '../../src/render/sources.js';
import { writeProject } from '../../src/render/write.js';
import { exampleEnv, ROOT, withValue } from '../helpers.js';

const ROLE = path.join(ROOT, 'roles/tracker_backup');
const read = (file: string) => parse(readFileSync(path.join(ROLE, file), 'utf8')) as Record<string, unknown>;

describe('role variables', () => {
  const defaults = Object.keys(read('defaults/main.yml')).sort();
  const specs = read('meta/argument_specs.yml').argument_specs as Record<string, { options: Record<string, { default: unknown }> }>;

  it('every public variable is prefixed tracker_backup_', () => {
    expect(defaults.filter((k) => !k.startsWith('tracker_backup_'))).toEqual([]);
  });

  it.each(['main', 'release', 'run'])('argument_specs entry point %s names exactly the defaults, with the same defaults', (entry) => {
    const options = specs[entry]?.options ?? {};
    expect(Object.keys(options).sort()).toEqual(defaults);
    const values = read('defaults/main.yml');
    for (const key of defaults) expect(options[key]?.default, key).toEqual(values[key]);
  });

  it.each(Object.keys(specs).filter((entry) => entry !== 'main'))('entry point %s checks the ranges first (tasks/validate.yml)', (entry) => {
    const tasks = parse(readFileSync(path.join(ROLE, 'tasks', `${entry}.yml`), 'utf8')) as Record<string, unknown>[];
    const first = tasks[0] ?? {};
    expect(first['ansible.builtin.import_tasks'] ?? first['ansible.builtin.include_tasks']).toBe('validate.yml');
    // run's only exception: skipped after the release phase checked them on the host in this run.
    if (first['ansible.builtin.include_tasks']) expect(first.when).toBe('tracker_backup_probe is not defined');
  });

  it('the CLI only hands the role variables it declares', async () => {
    const { roleVars } = await import('../../src/render/vars.js');
    const { vars, secrets } = roleVars(parseEnv('e.json', JSON.stringify(exampleEnv())));
    for (const key of [...Object.keys(vars), ...Object.keys(secrets)]) expect(defaults).toContain(key);
  });
});

/** A rendered project whose inventory points at this machine, run without SSH or sudo. */
async function localProject(data: Record<string, unknown>, deployDir: string): Promise<string> {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'tb-role-')), 'ansible');
  const env = parseEnv('e.json', JSON.stringify(withValue(data, 'deploy_dir', deployDir)));
  await writeProject(dir, renderProject(env, await loadSources(ROOT, ROOT)));
  const inventory = {
    all: {
      children: {
        tracker_servers: {
          children: { env_my_deployment: { hosts: { local: { ansible_connection: 'local', ansible_become: false, ansible_python_interpreter: 'python3' } } } },
        },
      },
    },
  };
  writeFileSync(path.join(dir, 'inventory.yml'), JSON.stringify(inventory));
  return dir;
}

describe('the role on a real ansible-playbook run', () => {
  it('stops the play at argument validation when a variable is wrong, before changing anything', async () => {
    const deployDir = mkdtempSync(path.join(tmpdir(), 'tb-deploy-'));
    const project = await localProject(exampleEnv(), deployDir);
    // A hand-edited vars file: the schema would never produce this value.
    const varsFile = path.join(project, 'group_vars/env_my_deployment/tracker_backup.yml');
    writeFileSync(varsFile, readFileSync(varsFile, 'utf8').replace('tracker_backup_database_driver: sqlite3', 'tracker_backup_database_driver: postgres'));
    let output = '';
    const result = await runPlaybook({ projectDir: project, phase: 'release', check: false, color: false, output: (text) => (output += text) });
    expect(result.exitCode).not.toBe(0);
    expect(output).toContain('value of tracker_backup_database_driver must be one of: sqlite3, mysql, got: postgres');
    expect(result.stats?.hosts.local).toMatchObject({ failures: 1, changed: 0 });
    expect(existsSync(path.join(deployDir, 'storage'))).toBe(false);
  });

  // argument_specs passes each of these (an int, a string, a list of strings); only the
  // generated asserts (tasks/validate.yml) know the range and the patterns.
  it.each([
    ['tracker_backup_retention_days', 400, 'tracker_backup_retention_days (environment file: backup.retention_days) must be a whole number from 1 to 365; it is 400'],
    ['tracker_backup_sqlite_path', '../tracker.db', 'tracker_backup_sqlite_path (environment file: backup.sqlite_path) must be a string matching'],
    // Python's $ would let a final newline through; the generated pattern ends in \\Z.
    ['tracker_backup_tracker_service', 'tracker\n', 'tracker_backup_tracker_service (environment file: backup.tracker_service) must be a string matching'],
    ['tracker_backup_compose_files', ['docker-compose.yml', '/etc/x.yml'], 'tracker_backup_compose_files (environment file: backup.compose_files) must be a list of strings matching'],
  ])('stops the play at the generated check when %s is %j, naming the variable, the rule and the value', async (variable, value, message) => {
    const deployDir = mkdtempSync(path.join(tmpdir(), 'tb-deploy-'));
    const project = await localProject(exampleEnv(), deployDir);
    const varsFile = path.join(project, 'group_vars/env_my_deployment/tracker_backup.yml');
    writeFileSync(varsFile, stringify({ ...(parse(readFileSync(varsFile, 'utf8')) as object), [variable]: value }));
    const statsFile = path.join(project, 'stats.json');
    const command = playbookCommand({ projectDir: project, phase: 'release', check: false, color: false, statsFile });
    const run = await execa(command.program, command.args, { cwd: command.cwd, env: command.env, reject: false, all: true });
    expect(run.exitCode).not.toBe(0);
    const output = run.all.replace(/\s+/g, ' ');
    expect(output).toContain(message);
    expect(output).toContain(`it is ${Array.isArray(value) ? `['${value.join("', '")}']` : String(value).trimEnd()}`);
    expect(parseStats(readFileSync(statsFile, 'utf8')).hosts.local).toMatchObject({ failures: 1, changed: 0 });
    expect(existsSync(path.join(deployDir, 'storage'))).toBe(false);
  });

  it('names every wrong value at once, in the one check task', async () => {
    const deployDir = mkdtempSync(path.join(tmpdir(), 'tb-deploy-'));
    const project = await localProject(exampleEnv(), deployDir);
    const varsFile = path.join(project, 'group_vars/env_my_deployment/tracker_backup.yml');
    writeFileSync(varsFile, stringify({ ...(parse(readFileSync(varsFile, 'utf8')) as object), tracker_backup_retention_days: 0, tracker_backup_restore_at: 'yesterday' }));
    const command = playbookCommand({ projectDir: project, phase: 'release', check: false, color: false, statsFile: path.join(project, 'stats.json') });
    const run = await execa(command.program, command.args, { cwd: command.cwd, env: command.env, reject: false, all: true });
    expect(run.exitCode).not.toBe(0);
    const output = run.all.replace(/\s+/g, ' ');
    expect(output).toContain('must be a whole number from 1 to 365; it is 0');
    expect(output).toContain('tracker_backup_restore_at must be a string matching ^(latest|[0-9]{8}_[0-9]{6})$; it is yesterday');
    expect(existsSync(path.join(deployDir, 'storage'))).toBe(false);
  });

  it('reports per-host stats through the callback (run phase with backups disabled changes nothing)', async () => {
    const deployDir = mkdtempSync(path.join(tmpdir(), 'tb-deploy-'));
    const project = await localProject(withValue(exampleEnv(), 'backup.enabled', false), deployDir);
    const result = await runPlaybook({ projectDir: project, phase: 'run', check: false, color: false, output: () => undefined });
    expect(result.exitCode).toBe(0);
    expect(result.stats?.hosts.local).toMatchObject({ failures: 0, changed: 0, unreachable: 0 });
    expect(result.stats?.hosts.local?.ok).toBeGreaterThan(0);
  });
});
