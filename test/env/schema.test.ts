import { describe, expect, it } from 'vitest';
import { EnvError, formatIssues, type EnvIssue } from '../../src/env/errors.js';
import { parseEnv } from '../../src/env/load.js';
import { scheduleWarnings } from '../../src/env/rules.js';
import { deployerEnv, exampleEnv, withValue } from '../helpers.js';

function issuesOf(data: unknown): EnvIssue[] {
  try {
    parseEnv('env.json', JSON.stringify(data));
  } catch (error) {
    if (error instanceof EnvError) return [...error.issues];
    throw error;
  }
  throw new Error('expected the environment to be rejected');
}

describe('valid environment files', () => {
  it('accepts the generated example', () => {
    expect(parseEnv('example.json', JSON.stringify(exampleEnv())).backup?.retention_days).toBe(7);
  });

  it("accepts a deployer's environment file plus an instance address, as it is", () => {
    const env = parseEnv('deployer.json', JSON.stringify(deployerEnv()));
    expect(env.tracker.core.database.driver).toBe('mysql');
    expect(env.deploy_dir).toBe('/opt/torrust');
  });

  it('fills in the documented defaults', () => {
    const env = parseEnv('e.json', JSON.stringify(withValue(withValue(exampleEnv(), 'deploy_dir', undefined), 'ssh_credentials.port', undefined)));
    expect(env.deploy_dir).toBe('/opt/torrust');
    expect(env.ssh_credentials.port).toBe(22);
    expect(env.backup?.enabled).toBe(true);
  });

  it('accepts a MySQL password with any characters, including template and shell syntax', () => {
    const data = withValue(deployerEnv(), 'tracker.core.database.password', `'"$(touch /tmp/pwned) \`id\` {{ x }} {% y %} \\ ;`);
    expect(() => parseEnv('e.json', JSON.stringify(data))).not.toThrow();
  });
});

describe('invalid environment files name the field, the problem and a valid example', () => {
  it.each([
    ['backup.retention_days', 0, 'must be at least 1', '7'],
    ['backup.retention_days', 366, 'must be at most 365', '7'],
    ['backup.retention_days', 7.5, 'whole number', '7'],
    ['backup.retention_days', '7', 'expected number', '7'],
    ['backup.schedule', '0 3 * *', 'has 4 fields', '"0 3 * * *"'],
    ['backup.schedule', '@daily', 'shortcuts', '"0 3 * * *"'],
    ['backup.enabled', 'no', 'expected boolean', 'true'],
    ['deploy_dir', 'opt/torrust', 'absolute path', '"/opt/torrust"'],
    ['deploy_dir', '/opt/my torrust', 'absolute path', '"/opt/torrust"'],
    ['deploy_dir', '/opt/../etc', 'absolute path', '"/opt/torrust"'],
    ['deploy_dir', '/opt/{{ lookup("pipe","id") }}', 'Ansible would template it', '"/opt/torrust"'],
    ['ssh_credentials.port', 70000, 'at most 65535', '22'],
    ['ssh_credentials.username', 'root; rm', 'Unix user name', '"torrust"'],
    ['instance.host', '', 'must not be empty', '"203.0.113.10"'],
    ['environment.name', 'My_Env', 'lowercase', '"my-deployment"'],
    ['tracker.core.database.driver', 'postgres', 'driver must be "sqlite3" or "mysql"', '"sqlite3"'],
    ['tracker.core.database.database_name', '../../etc/passwd', 'a file name', '"tracker.db"'],
    ['backup.sqlite_path', '/abs/path.db', 'relative to deploy_dir', '"storage/tracker/lib/database/tracker.db"'],
    ['backup.sqlite_path', 'storage/../../x.db', 'relative to deploy_dir', '"storage/tracker/lib/database/tracker.db"'],
    ['backup.config_paths', [], 'at least one path', '["storage/tracker/etc/tracker.toml"'],
    ['backup.tracker_service', 'tracker\nx', 'control characters', '"tracker"'],
  ])('%s = %j', (path, value, problem, example) => {
    const issues = issuesOf(withValue(exampleEnv(), path, value));
    const issue = issues.find((i) => i.path === path);
    expect(issue, JSON.stringify(issues)).toBeDefined();
    expect(issue?.message).toContain(problem);
    expect(issue?.example).toContain(example);
  });

  it('says which required field is missing', () => {
    const issues = issuesOf(withValue(exampleEnv(), 'backup.schedule', undefined));
    expect(issues).toEqual([expect.objectContaining({ path: 'backup.schedule', message: 'is required', example: '"0 3 * * *"' })]);
  });

  it('reports every problem in one run, not the first one only', () => {
    let data = withValue(exampleEnv(), 'backup.retention_days', 0);
    data = withValue(data, 'backup.schedule', '0 3 * * * *');
    data = withValue(data, 'instance.host', '');
    expect(issuesOf(data).map((i) => i.path).sort()).toEqual(['backup.retention_days', 'backup.schedule', 'instance.host']);
  });

  it.each([
    ['backup.retension_days', 'retention_days'],
    ['backup.shedule', 'schedule'],
    ['ssh_credentials.usrname', 'username'],
    ['instance.hots', 'host'],
    ['deploydir', 'deploy_dir'],
  ])('suggests a known key for the unknown key %s', (path, guess) => {
    const issues = issuesOf(withValue(exampleEnv(), path, 1));
    expect(issues.find((i) => i.path === path)?.message).toContain(`did you mean "${guess}"`);
  });

  it("ignores unknown keys in the deployer's sections it does not read", () => {
    const data = withValue(withValue(deployerEnv(), 'tracker.health_check_api', { bind_address: 'x' }), 'grafana.anything', 1);
    expect(() => parseEnv('e.json', JSON.stringify(data))).not.toThrow();
  });

  it('refuses sqlite_path when the database is MySQL (a rule across fields)', () => {
    const data = withValue(deployerEnv(), 'backup.sqlite_path', 'storage/x.db');
    expect(issuesOf(data)).toEqual([expect.objectContaining({ path: 'backup.sqlite_path', message: expect.stringContaining('only applies') })]);
  });

  it('wants exactly one of instance and instances, with unique instance names', () => {
    const none = withValue(exampleEnv(), 'instance', undefined);
    expect(issuesOf(none)).toEqual([expect.objectContaining({ path: 'instance', message: expect.stringContaining('is required (or instances') })]);
    const both = withValue(exampleEnv(), 'instances', [{ name: 'eu', host: '198.51.100.1' }]);
    expect(issuesOf(both)).toEqual([expect.objectContaining({ path: 'instances', message: expect.stringContaining('cannot be given together with instance') })]);
    const twice = withValue(none, 'instances', [
      { name: 'eu', host: '198.51.100.1' },
      { name: 'eu', host: '198.51.100.2' },
    ]);
    expect(issuesOf(twice)).toEqual([expect.objectContaining({ path: 'instances[1].name', example: 'eu-2' })]);
    expect(issuesOf(withValue(none, 'instances', [{ name: 'EU', host: '198.51.100.1' }]))).toEqual([
      expect.objectContaining({ path: 'instances[0].name', message: expect.stringContaining('lowercase letters') }),
    ]);
    expect(issuesOf(withValue(none, 'instances', []))).toEqual([expect.objectContaining({ path: 'instances', message: 'must list at least one instance' })]);
  });

  it('points at the example file instead of printing a whole section as the example', () => {
    const issues = issuesOf([]);
    expect(issues).toEqual([expect.objectContaining({ path: '(top level)', example: 'see envs/example.json and docs/environment.md' })]);
  });

  it('reads "backup": null as no backup section (backups off), like the deployer', () => {
    const env = parseEnv('e.json', JSON.stringify(withValue(exampleEnv(), 'backup', null)));
    expect(env.backup ?? undefined).toBeUndefined();
  });

  it('reports a file that is not JSON', () => {
    expect(() => parseEnv('e.json', '{ "backup": ')).toThrow(/is not valid JSON/);
  });

  it('formats one line per problem, path first', () => {
    const text = formatIssues('env.json', [{ path: 'backup.retention_days', message: 'must be at least 1', example: '7' }]);
    expect(text).toBe('env.json: 1 problem\n  backup.retention_days: must be at least 1 (example: 7)');
  });
});

describe('schedule warnings', () => {
  it.each([
    ['0 3 * * *', []],
    ['0 0 1 * *', ['less often than once a week']],
    ['0 0 31 2 *', ['never runs']],
  ])('%j', (schedule, expected) => {
    const env = parseEnv('e.json', JSON.stringify(withValue(exampleEnv(), 'backup.schedule', schedule)));
    const warnings = scheduleWarnings(env);
    expect(warnings).toHaveLength(expected.length);
    expected.forEach((text, i) => expect(warnings[i]).toContain(text));
  });

  it('does not warn about the schedule of disabled backups', () => {
    const env = parseEnv('e.json', JSON.stringify(withValue(withValue(exampleEnv(), 'backup.schedule', '0 0 31 2 *'), 'backup.enabled', false)));
    expect(scheduleWarnings(env)).toEqual([]);
  });
});
