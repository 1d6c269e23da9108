import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvError, formatIssues, printable, type EnvIssue } from '../../src/env/errors.js';
import { parseEnv } from '../../src/env/load.js';
import { scheduleWarnings } from '../../src/env/rules.js';
import { deployerEnv, exampleEnv, ROOT, withValue } from '../helpers.js';

// Vitest types its asymmetric matchers as any; as unknown they can sit in an object literal.
const containing = (text: string): unknown => expect.stringContaining(text);

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
    ['backup.tracker_stop_signal', 'SIGKILL', 'must be one of "SIGINT", "SIGTERM"', '"SIGINT"'],
    ['backup.tracker_stop_signal', 'INT', 'must be one of "SIGINT"', '"SIGINT"'],
  ])('%s = %j', (path, value, problem, example) => {
    const issues = issuesOf(withValue(exampleEnv(), path, value));
    const issue = issues.find((i) => i.path === path);
    expect(issue, JSON.stringify(issues)).toBeDefined();
    expect(issue?.message).toContain(problem);
    expect(issue?.example).toContain(example);
  });

  it('says which required field is missing', () => {
    const issues = issuesOf(withValue(exampleEnv(), 'environment.name', undefined));
    expect(issues).toEqual([expect.objectContaining({ path: 'environment.name', message: 'is required', example: '"my-deployment"' })]);
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
    expect(issuesOf(data)).toEqual([expect.objectContaining({ path: 'backup.sqlite_path', message: containing('only applies') })]);
  });

  it('wants exactly one of instance and instances, with unique instance names', () => {
    const none = withValue(exampleEnv(), 'instance', undefined);
    expect(issuesOf(none)).toEqual([expect.objectContaining({ path: 'instance', message: containing('is required (or instances') })]);
    const both = withValue(exampleEnv(), 'instances', [{ name: 'eu', host: '198.51.100.1' }]);
    expect(issuesOf(both)).toEqual([expect.objectContaining({ path: 'instances', message: containing('cannot be given together with instance') })]);
    const twice = withValue(none, 'instances', [
      { name: 'eu', host: '198.51.100.1' },
      { name: 'eu', host: '198.51.100.2' },
    ]);
    expect(issuesOf(twice)).toEqual([expect.objectContaining({ path: 'instances[1].name', example: 'eu-2' })]);
    expect(issuesOf(withValue(none, 'instances', [{ name: 'EU', host: '198.51.100.1' }]))).toEqual([
      expect.objectContaining({ path: 'instances[0].name', message: containing('lowercase letters') }),
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

describe("the deployer's minimal backup section (issue 9, item 4)", () => {
  it('accepts "backup": {} with the deployer\'s defaults: daily at 03:00, 7 days', () => {
    const env = parseEnv('e.json', JSON.stringify(withValue(exampleEnv(), 'backup', {})));
    expect(env.backup).toMatchObject({ enabled: true, schedule: '0 3 * * *', retention_days: 7 });
  });

  it('gives the SQLite example no compose network (database_network exists only beside MySQL)', () => {
    const example = exampleEnv();
    expect(example.tracker.core.database.driver).toBe('sqlite3');
    expect(example.backup?.compose_networks).toBeUndefined();
    expect(readFileSync(path.join(ROOT, 'docs/environment.md'), 'utf8').split('## Example')[1]).not.toContain('database_network');
  });
});

describe('paths that would archive the backups themselves are refused (item 5)', () => {
  it.each([
    ['.', 'contains the backup directory storage/backup'],
    ['./', 'contains the backup directory storage/backup'],
    ['storage', 'contains the backup directory storage/backup'],
    ['./storage', 'contains the backup directory storage/backup'],
    ['storage/', 'contains the backup directory storage/backup'],
    ['storage/backup', 'is the backup directory storage/backup'],
    ['storage//backup', 'is the backup directory storage/backup'],
    ['storage/./backup/', 'is the backup directory storage/backup'],
    ['storage/backup/etc', 'is inside the backup directory storage/backup'],
    ['./storage/backup/etc/mysql-password', 'is inside the backup directory storage/backup'],
  ])('config_paths entry %j', (entry, problem) => {
    const issues = issuesOf(withValue(exampleEnv(), 'backup.config_paths', ['storage/tracker/etc/tracker.toml', entry]));
    expect(issues).toEqual([
      expect.objectContaining({ path: 'backup.config_paths[1]', message: containing(problem), example: '"storage/tracker/etc/tracker.toml"' }),
    ]);
    expect(issues[0]?.message).toContain('previous ones');
  });

  it.each([['storage/backups'], ['storage/backup-old/x'], ['storage/tracker'], ['storage/tracker/etc/tracker.toml']])('accepts the neighbour %j', (entry) => {
    expect(() => parseEnv('e.json', JSON.stringify(withValue(exampleEnv(), 'backup.config_paths', [entry])))).not.toThrow();
  });

  it.each([['storage/backup/tracker.db'], ['storage/./backup//sqlite/tracker.db'], ['storage/backup']])('refuses sqlite_path %j inside storage/backup', (value) => {
    expect(issuesOf(withValue(exampleEnv(), 'backup.sqlite_path', value))).toEqual([
      expect.objectContaining({ path: 'backup.sqlite_path', message: containing('must not be inside the backup directory storage/backup') }),
    ]);
  });
});

describe('deploy_dir and the length of names and paths (item 6)', () => {
  it.each([
    ['/', 'system directory'],
    ['//', 'plain form'],
    ['/opt/torrust/', 'plain form'],
    ['/opt//torrust', 'plain form'],
    ['/opt/./torrust', 'plain form'],
    ...['/etc', '/usr', '/var', '/bin', '/boot', '/dev', '/proc', '/sys', '/root', '/home', '/opt', '/srv', '/tmp', '/run', '/lib64', '/libx32', '/mnt', '/media', '/sbin'].map((d) => [d, 'system directory']),
    ...['/etc/torrust', '/usr/share/torrust', '/usr/local', '/usr/bin/x', '/proc/1', '/sys/x', '/dev/shm/t', '/run/t', '/boot/t', '/lib/t', '/lib64/t', '/sbin/t'].map((d) => [d, 'system directory']),
    ...['/var/lib', '/var/log', '/var/cache', '/var/spool', '/var/tmp', '/var/run'].map((d) => [d, 'system directory']),
    [`/opt/${'a'.repeat(200)}`, 'at most 200 characters'],
  ])('refuses deploy_dir %j', (dir, problem) => {
    const issues = issuesOf(withValue(exampleEnv(), 'deploy_dir', dir));
    expect(issues).toEqual([expect.objectContaining({ path: 'deploy_dir', message: containing(problem), example: '"/opt/torrust"' })]);
  });

  it.each([['/opt/torrust'], ['/usr/local/torrust'], ['/var/lib/torrust'], ['/srv/torrust'], ['/home/torrust/deploy'], [`/opt/${'a'.repeat(195)}`]])('accepts deploy_dir %j', (dir) => {
    expect(parseEnv('e.json', JSON.stringify(withValue(exampleEnv(), 'deploy_dir', dir))).deploy_dir).toBe(dir);
  });

  it('applies the same rule to instances[].deploy_dir', () => {
    const data = withValue(withValue(exampleEnv(), 'instance', undefined), 'instances', [{ name: 'eu', host: '198.51.100.1', deploy_dir: '/etc' }]);
    expect(issuesOf(data)).toEqual([expect.objectContaining({ path: 'instances[0].deploy_dir', message: containing('system directory') })]);
  });

  it('limits environment and instance names to 63 characters and paths to 200', () => {
    expect(issuesOf(withValue(exampleEnv(), 'environment.name', 'a'.repeat(300)))).toEqual([
      expect.objectContaining({ path: 'environment.name', message: 'must be at most 63 characters' }),
    ]);
    expect(parseEnv('e.json', JSON.stringify(withValue(exampleEnv(), 'environment.name', 'a'.repeat(63)))).environment.name).toHaveLength(63);
    const instances = withValue(withValue(exampleEnv(), 'instance', undefined), 'instances', [{ name: 'b'.repeat(64), host: '198.51.100.1' }]);
    expect(issuesOf(instances)).toEqual([expect.objectContaining({ path: 'instances[0].name', message: 'must be at most 63 characters' })]);
    expect(issuesOf(withValue(exampleEnv(), 'backup.config_paths', [`storage/${'c'.repeat(250)}`]))).toEqual([
      expect.objectContaining({ path: 'backup.config_paths[0]', message: 'must be at most 200 characters' }),
    ]);
    expect(issuesOf(withValue(exampleEnv(), 'backup.sqlite_path', `${'d'.repeat(300)}.db`))).toEqual([
      expect.objectContaining({ path: 'backup.sqlite_path', message: 'must be at most 200 characters' }),
    ]);
  });
});

describe('duplicate keys (item 19)', () => {
  it('names every duplicated key by its JSON path, wherever it is', () => {
    const text = `{
      "environment": {"name": "my-deployment", "description": "a \\"}{[\\\\ \\"name\\": 1"},
      "ssh_credentials": {"private_key_path": "~/.ssh/id_ed25519", "username": "torrust", "username": "ops"},
      "instances": [{"name": "a", "host": "198.51.100.1"}, {"name": "b", "host": "198.51.100.2", "host": "198.51.100.3"}],
      "tracker": {"core": {"database": {"driver": "sqlite3", "database_name": "tracker.db"}}},
      "backup": {"schedule": "0 3 * * *", "retention_days": 7, "sched\\u0075le": "0 4 * * *", "config_paths": ["b", "c"]},
      "environment": {"name": "my-deployment"}
    }`;
    expect(() => JSON.parse(text) as unknown).not.toThrow();
    let issues: EnvIssue[] = [];
    try {
      parseEnv('e.json', text);
    } catch (error) {
      if (error instanceof EnvError) issues = [...error.issues];
    }
    expect(issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      expect.stringMatching(/^ssh_credentials\.username: duplicate key/),
      expect.stringMatching(/^instances\[1\]\.host: duplicate key/),
      expect.stringMatching(/^backup\.schedule: duplicate key/),
      expect.stringMatching(/^environment: duplicate key/),
    ]);
  });

  it('still reports the schema problems alongside', () => {
    const text = JSON.stringify(withValue(exampleEnv(), 'backup.retention_days', 0)).replace('"backup":{', '"backup":{"mode":"stop",');
    expect(() => parseEnv('e.json', text)).toThrow(/backup\.mode: duplicate key[\s\S]*backup\.retention_days: must be at least 1/);
  });
});

describe('byte-order mark and terminal control characters (item 20)', () => {
  it('accepts a UTF-8 byte-order mark before the JSON', () => {
    expect(parseEnv('e.json', `\uFEFF${JSON.stringify(exampleEnv())}`).environment.name).toBe('my-deployment');
  });

  it('escapes control, escape and bidi characters from keys, values, the file name and JSON.parse itself', () => {
    // eslint-disable-next-line no-control-regex -- the point is to find control characters
    const raw = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
    const message = (file: string, text: string) => {
      try {
        parseEnv(file, text);
      } catch (error) {
        if (error instanceof EnvError) return error.message;
      }
      throw new Error('expected the environment to be rejected');
    };
    const key = message('e.json', JSON.stringify(withValue(exampleEnv(), 'backup.\u001b[2Jevil\u202e', 1)));
    expect(key).not.toMatch(raw);
    expect(key).toContain('backup.\\x1b[2Jevil\\u{202e}: unknown key');
    const value = message('e.json', JSON.stringify(withValue(exampleEnv(), 'backup.schedule', '0 3 * * \u001b]0;owned\u0007')));
    expect(value).not.toMatch(raw);
    expect(value).toContain('backup.schedule:');
    const parse = message('e\u001b[31m.json', '{"backup": \u001b[31m}');
    expect(parse).not.toMatch(raw);
    expect(parse).toContain('e\\x1b[31m.json: 1 problem');
    expect(parse).toMatch(/\(file\): is not valid JSON: .*\\x1b/);
  });

  it('escapes each kind of unprintable character visibly', () => {
    expect(printable('a\u0000b\u001bc\u007fd\u009be\u2028f\u2066g\u061ch\nî')).toBe('a\\x00b\\x1bc\\x7fd\\x9be\\u{2028}f\\u{2066}g\\u{61c}h\\x0aî');
  });
});

describe('one deployment per host (item 21)', () => {
  const fleet = (instances: unknown[]) => withValue(withValue(exampleEnv(), 'instance', undefined), 'instances', instances);

  it('refuses two instances on the same host and SSH port, whatever their deploy_dir', () => {
    const issues = issuesOf(
      fleet([
        { name: 'a', host: 'Tracker.example.org', deploy_dir: '/opt/a' },
        { name: 'b', host: 'tracker.example.org', port: 22, deploy_dir: '/opt/b' },
      ]),
    );
    expect(issues).toEqual([expect.objectContaining({ path: 'instances[1].host', message: containing('is already instances[0]') })]);
    expect(issues[0]?.message).toContain('one deployment per host is supported');
    expect(issues[0]?.message).toContain('/etc/cron.d/tracker-backup');
  });

  it('accepts the same address on another SSH port (another machine behind one address)', () => {
    expect(() => parseEnv('e.json', JSON.stringify(fleet([
      { name: 'a', host: '198.51.100.1' },
      { name: 'b', host: '198.51.100.1', port: 2222 },
    ])))).not.toThrow();
  });
});
