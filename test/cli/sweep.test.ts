// The adversarial sweep: environment values, file shapes, file paths and names thrown at
// validate and render, each with the outcome it must have. A refusal must exit 1 (2 for a
// usage error), name the field, print no stack trace and no raw control character, and
// write nothing. An acceptance must render a project that Ansible's own YAML loader reads
// back with exactly the values given and no variable nobody asked for.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deployerEnv, exampleEnv, runMain, withValue, type EnvInput } from '../helpers.js';

type Outcome = 'refused' | 'accepted';

interface Case {
  name: string;
  outcome: Outcome;
  /** JSON path the refusal must name (refusals only). */
  field?: string;
  /** The env file's text, when the case is about the file's shape. */
  text?: string;
  env?: object;
  /** A file name of its own, when the case is about the path. */
  fileName?: string;
}

const LINE_BREAKS: Record<string, string> = {
  LF: '\n',
  CR: '\r',
  VT: '\v',
  FF: '\f',
  FS: '\x1c',
  GS: '\x1d',
  RS: '\x1e',
  NEL: '\x85',
  LS: '\u2028',
  PS: '\u2029',
};

const sqlite = () => exampleEnv();
const mysql = () => withValue(deployerEnv(), 'deploy_dir', '/opt/torrust');
const at = (base: object, field: string, value: unknown) => withValue(base, field, value);

function refused(name: string, field: string, env: object): Case {
  return { name, outcome: 'refused', field, env };
}

function accepted(name: string, env: object): Case {
  return { name, outcome: 'accepted', env };
}

const cases: Case[] = [];

// --- names ---------------------------------------------------------------------------
for (const [label, value] of [
  ['empty', ''],
  ['uppercase', 'Prod'],
  ['trailing dash', 'prod-'],
  ['leading digit', '1prod'],
  ['64 characters', `a${'b'.repeat(63)}`],
  ['300 characters', 'a'.repeat(300)],
  ['slash', 'a/b'],
  ['dot dot', '..'],
  ['template', 'a{{x}}'],
  ['shell', 'a$(id)'],
  ['unicode letter', 'prodé'],
  ['space', 'my prod'],
] as const) {
  cases.push(refused(`environment.name: ${label}`, 'environment.name', at(sqlite(), 'environment.name', value)));
}
cases.push(accepted('environment.name: 63 characters', at(sqlite(), 'environment.name', `a${'b'.repeat(62)}`)));
cases.push(accepted('environment.name: one letter', at(sqlite(), 'environment.name', 'p')));
for (const [label, brk] of Object.entries(LINE_BREAKS)) {
  cases.push(refused(`environment.name: ${label} inside`, 'environment.name', at(sqlite(), 'environment.name', `a${brk}ansible_ssh_executable`)));
}

// --- hosts and SSH ---------------------------------------------------------------------
for (const [label, value] of [
  ['empty', ''],
  ['option injection', '-oProxyCommand=id'],
  ['space', '203.0.113.10 x'],
  ['semicolon', 'a;id'],
  ['template', '{{ x }}'],
  ['newline', 'a\nb'],
  ['LS', 'a\u2028b'],
  ['NEL', 'a\x85b'],
] as const) {
  cases.push(refused(`instance.host: ${label}`, 'instance.host', at(sqlite(), 'instance.host', value)));
}
for (const value of ['203.0.113.10', 'tracker.example.org', '2001:db8::1', 'localhost']) {
  cases.push(accepted(`instance.host: ${value}`, at(sqlite(), 'instance.host', value)));
}
for (const [label, value] of [
  ['0', 0],
  ['65536', 65536],
  ['negative', -1],
  ['fraction', 22.5],
  ['string', '22'],
  ['null', null],
] as const) {
  cases.push(refused(`ssh_credentials.port: ${label}`, 'ssh_credentials.port', at(sqlite(), 'ssh_credentials.port', value)));
}
for (const [label, value] of [
  ['leading dash', '-oops'],
  ['space', 'tor rust'],
  ['uppercase', 'Torrust'],
  ['empty', ''],
  ['newline', 'torrust\nroot'],
] as const) {
  cases.push(refused(`ssh_credentials.username: ${label}`, 'ssh_credentials.username', at(sqlite(), 'ssh_credentials.username', value)));
}
cases.push(accepted('ssh_credentials.username: root', at(sqlite(), 'ssh_credentials.username', 'root')));
for (const [label, value] of [
  ['space', '~/.ssh/my key'],
  ['template', "{{ lookup('pipe', 'id') }}"],
  ['empty', ''],
  ['newline', '/k\nansible_ssh_executable: /tmp/x'],
  ['LS', '/k\u2028ansible_ssh_executable: /tmp/x'],
  ['PS', '/k\u2029ansible_ssh_executable: /tmp/x'],
] as const) {
  cases.push(refused(`ssh_credentials.private_key_path: ${label}`, 'ssh_credentials.private_key_path', at(sqlite(), 'ssh_credentials.private_key_path', value)));
}
for (const [label, value] of [
  ['home', '~/.ssh/id_ed25519'],
  ['absolute', '/root/.ssh/id_rsa'],
  ['relative', 'fixtures/testing_rsa'],
  ['shell characters', '/k/$(id)`x`;&|'],
  ['quotes', `/k/'"x`],
  ['yaml indicators', '/k/:#x&*!|>%@,[]{}'],
] as const) {
  cases.push(accepted(`ssh_credentials.private_key_path: ${label}`, at(sqlite(), 'ssh_credentials.private_key_path', value)));
}

// --- deploy_dir --------------------------------------------------------------------------
for (const value of [
  '/', '//', '/etc', '/usr', '/var', '/bin', '/boot', '/dev', '/proc', '/sys', '/root', '/sbin', '/lib', '/lib64', '/run', '/tmp',
  '/home', '/opt', '/srv', '/mnt', '/media', '/usr/local', '/var/lib', '/var/log', '/etc/torrust', '/proc/1', '/sys/x', '/dev/shm/x',
  '/boot/x', '/usr/bin/x', '/run/x', '/opt/torrust/', '/opt//torrust', '/opt/./torrust', '/opt/../etc', 'opt/torrust', '/opt/tor rust',
  '/opt/torrust;id', '/opt/$(id)', `/opt/${'x'.repeat(300)}`, '/opt/torrust\n', '/opt/\u2028x',
]) {
  cases.push(refused(`deploy_dir: ${JSON.stringify(value).slice(0, 40)}`, 'deploy_dir', at(sqlite(), 'deploy_dir', value)));
}
for (const value of ['/opt/torrust', '/srv/torrust', '/home/torrust/tracker', '/data/torrust', '/usr/local/torrust', '/var/lib/torrust']) {
  cases.push(accepted(`deploy_dir: ${value}`, at(sqlite(), 'deploy_dir', value)));
}

// --- paths below deploy_dir ----------------------------------------------------------------
for (const value of [
  '.', './', 'storage', 'storage/', './storage', 'storage/backup', 'storage//backup', 'storage/./backup', 'storage/backup/etc',
  'storage/backup/etc/mysql-password', 'storage/backup/sqlite', '../etc', '/etc/passwd', 'a b', 'x;id', '$(id)', 'storage/../..', '',
]) {
  cases.push(refused(`backup.config_paths: ${JSON.stringify(value)}`, 'backup.config_paths[0]', at(sqlite(), 'backup.config_paths', [value])));
}
cases.push(refused('backup.config_paths: empty list', 'backup.config_paths', at(sqlite(), 'backup.config_paths', [])));
for (const value of ['storage/tracker/etc/tracker.toml', 'storage/tracker', 'storage/backups-old', 'storage/backup2/x', 'docker-compose.yml']) {
  cases.push(accepted(`backup.config_paths: ${value}`, at(sqlite(), 'backup.config_paths', [value])));
}
for (const value of ['storage/backup/tracker.db', '../tracker.db', '/tracker.db', 'db;id']) {
  cases.push(refused(`backup.sqlite_path: ${value}`, 'backup.sqlite_path', at(sqlite(), 'backup.sqlite_path', value)));
}
cases.push(refused('backup.sqlite_path with the mysql driver', 'backup.sqlite_path', at(at(mysql(), 'backup.sqlite_path', 'x.db'), 'backup.retention_days', 7)));
for (const value of ['../docker-compose.yml', 'x.yml;id', '/etc/x.yml']) {
  cases.push(refused(`backup.compose_files: ${value}`, 'backup.compose_files[0]', at(sqlite(), 'backup.compose_files', [value])));
}
for (const [label, value] of [
  ['parent', '../x.db'],
  ['hidden', '.x.db'],
  ['slash', 'a/b.db'],
  ['space', 'a b.db'],
] as const) {
  cases.push(refused(`sqlite database_name: ${label}`, 'tracker.core.database.database_name', at(sqlite(), 'tracker.core.database.database_name', value)));
}

// --- the schedule and the numbers ------------------------------------------------------------
for (const value of ['@daily', '0 3 * *', '0 3 * * * *', '*/0 * * * *', '60 * * * *', '0 24 * * *', '0 3 * * 8', '0 3 L * *', '0 3 * * 1#2',
  '0 3 ? * *', 'H 3 * * *', '0 3 * jan-mar *', '5/10 * * * *', '0 3 * * *\n* * * * * root id', '0 3 * * * %', '', '0 3 * * mon,tue']) {
  cases.push(refused(`backup.schedule: ${JSON.stringify(value)}`, 'backup.schedule', at(sqlite(), 'backup.schedule', value)));
}
for (const value of ['0 3 * * *', '0 */6 * * *', '0 0 31 2 *', '0 0 */2 * 1', '0 3 * * 7', '0 3 * * sun', '0 3 1 jan *', '*/5 * * * *', '0 0 29 2 *']) {
  cases.push(accepted(`backup.schedule: ${value}`, at(sqlite(), 'backup.schedule', value)));
}
for (const value of [0, 366, -1, 7.5, '7', null, 1e9]) {
  cases.push(refused(`backup.retention_days: ${JSON.stringify(value)}`, 'backup.retention_days', at(sqlite(), 'backup.retention_days', value)));
}
for (const [field, value] of [
  ['backup.mode', 'offline'],
  ['backup.compression', 'xz'],
  ['backup.timeout_seconds', 5],
  ['backup.timeout_seconds', 86401],
  ['backup.tracker_stop_timeout', 0],
  ['backup.tracker_stop_signal', 'SIGKILL'],
  ['backup.tracker_stop_signal', 'sigint'],
  ['backup.tracker_service', '-tracker'],
  ['backup.tracker_service', 'a b'],
  ['backup.image', 'UPPER/case'],
  ['backup.image', 'x $(id)'],
  ['backup.enabled', 'no'],
  ['backup.compose_networks', ['-x']],
  ['ansible.host_key_checking', 'false'],
] as const) {
  const where = field === 'backup.compose_networks' ? `${field}[0]` : field;
  cases.push(refused(`${field}: ${JSON.stringify(value)}`, where, at(sqlite(), field, value)));
}
cases.push(accepted('backup: {} takes the deployer defaults', at(sqlite(), 'backup', {})));
cases.push(accepted('backup: null means off', at(sqlite(), 'backup', null)));
cases.push(accepted('backup.enabled false', at(sqlite(), 'backup.enabled', false)));

// --- the MySQL password ------------------------------------------------------------------------
for (const [label, value] of [
  ['lone surrogate', 'a\ud800b'],
  ['NUL', 'a\u0000b'],
  ['empty', ''],
  ['number', 1234],
] as const) {
  cases.push(refused(`password: ${label}`, 'tracker.core.database.password', at(mysql(), 'tracker.core.database.password', value)));
}
for (const [label, value] of [
  ['leading and trailing spaces', '  pass word  '],
  ['trailing newline', 'secret\n'],
  ['JSON object', '{"a":1}'],
  ['JSON list', '[1]'],
  ['yes', 'yes'],
  ['null', 'null'],
  ['tilde', '~'],
  ['True', 'True'],
  ['float', '1e3'],
  ['octal', '0o17'],
  ['NEL', 'a\x85b'],
  ['LS', 'a\u2028b'],
  ['template', '{{ lookup("pipe", "id") }}'],
  ['unsafe tag', '!unsafe x'],
  ['shell', `'"\`$(touch /tmp/pwned)\` ;|&`],
  ['tab and CR', 'a\tb\rc'],
  ['long', 'x'.repeat(2000)],
  ['emoji', 'pässwörd 🔑'],
  ['yaml document marker', '--- x'],
  ['comment', 'a #b'],
] as const) {
  cases.push(accepted(`password: ${label}`, at(mysql(), 'tracker.core.database.password', value)));
}

// The password read from elsewhere: every place it cannot come from names the reference.
for (const [label, value, where] of [
  ['file: missing', { file: 'no-such-secret' }, 'file'],
  ['file: /etc/shadow (group-readable)', { file: '/etc/shadow' }, 'file'],
  ['file: /etc/passwd (world-readable)', { file: '/etc/passwd' }, 'file'],
  ['file: /proc/self/environ (NULs)', { file: '/proc/self/environ' }, 'file'],
  ['file: /dev/zero', { file: '/dev/zero' }, 'file'],
  ['file: the directory itself', { file: '.' }, 'file'],
  ['file: the env file itself (0644)', { file: 'env.json' }, 'file'],
  ['file: a line break in the path', { file: 'a\nb' }, 'file'],
  ['env: unset', { env: 'TB_SWEEP_NEVER_SET' }, 'env'],
  ['env: not a name', { env: '$(id)' }, 'env'],
  ['env: empty name', { env: '' }, 'env'],
] as const) {
  cases.push(refused(`password: ${label}`, `tracker.core.database.password.${where}`, at(mysql(), 'tracker.core.database.password', value)));
}
for (const [label, value] of [
  ['file and env together', { file: 'a', env: 'B' }],
  ['unknown reference', { vault: 'x' }],
  ['file: a number', { file: 5 }],
  ['vault: not hex', '$ANSIBLE_VAULT;1.1;AES256\nzz'],
  ['vault: header only', '$ANSIBLE_VAULT;1.2;AES256;lab'],
] as const) {
  cases.push(refused(`password: ${label}`, 'tracker.core.database.password', at(mysql(), 'tracker.core.database.password', value)));
}

// --- several hosts ---------------------------------------------------------------------------------
const twoInstances = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  at(at(sqlite(), 'instance', undefined), 'instances', [
    { name: 'eu', host: '203.0.113.10', ...a },
    { name: 'us', host: '198.51.100.7', ...b },
  ]);
cases.push(refused('instances: duplicate names', 'instances[1].name', twoInstances({}, { name: 'eu' })));
cases.push(refused('instances: same host twice', 'instances[1].host', twoInstances({}, { host: '203.0.113.10' })));
cases.push(refused('instances: same host and port, another deploy_dir', 'instances[1].host', twoInstances({}, { host: '203.0.113.10', deploy_dir: '/srv/other' })));
cases.push(accepted('instances: same address, other SSH port', twoInstances({}, { host: '203.0.113.10', port: 2222 })));
cases.push(refused('instances: deploy_dir /', 'instances[0].deploy_dir', twoInstances({ deploy_dir: '/' }, {})));
cases.push(refused('instances and instance together', 'instances', at(sqlite(), 'instances', [{ name: 'eu', host: '203.0.113.10' }])));
cases.push(refused('instances: empty list', 'instances', at(at(sqlite(), 'instance', undefined), 'instances', [])));
cases.push(refused('neither instance nor instances', 'instance', at(sqlite(), 'instance', undefined)));
cases.push(refused('instances: 64-character name', 'instances[0].name', twoInstances({ name: `a${'b'.repeat(63)}` }, {})));

// --- unknown and odd keys ----------------------------------------------------------------------------
cases.push(refused('unknown key, escape sequence in its name', 'backup.\\x1b[31mred', at(sqlite(), 'backup.\u001b[31mred', 1)));
cases.push(refused('unknown key __proto__', 'backup.__proto__', { ...sqlite(), backup: JSON.parse('{"__proto__": {"x": 1}, "schedule": "0 3 * * *", "retention_days": 7}') as unknown }));
cases.push(refused('typo in a key', 'backup.retension_days', at(sqlite(), 'backup.retension_days', 7)));
cases.push(refused('escape sequence in a value', 'backup.schedule', at(sqlite(), 'backup.schedule', '\u001b]0;pwned\u0007 3 * * *')));

// --- file shapes ---------------------------------------------------------------------------------------
const valid = JSON.stringify(sqlite());
for (const [label, text, field] of [
  ['empty file', '', '(file)'],
  ['not JSON', 'backup: yes', '(file)'],
  ['a list', '[]', '(top level)'],
  ['null', 'null', '(top level)'],
  ['a string', '"x"', '(top level)'],
  ['trailing comma', valid.replace(/}$/, ',}'), '(file)'],
  ['comments', `// c\n${valid}`, '(file)'],
  ['duplicate top-level key', valid.replace(/}$/, ',"deploy_dir":"/srv/x"}'), 'deploy_dir'],
  ['duplicate nested key', valid.replace('"retention_days":7', '"retention_days":7,"retention_days":30'), 'backup.retention_days'],
  ['duplicate key with escapes', valid.replace(/}$/, ',"deploy\\u005fdir":"/srv/x"}'), 'deploy_dir'],
  ['UTF-16 with BOM', `\ufffe${valid}`, '(file)'],
  ['escape sequence outside strings', `\u001b[2J${valid}`, '(file)'],
  ['deep nesting', `${'['.repeat(20000)}${']'.repeat(20000)}`, '(file)'],
] as const) {
  cases.push({ name: `file: ${label}`, outcome: 'refused', field, text });
}
cases.push({ name: 'file: UTF-8 byte-order mark', outcome: 'accepted', text: `\ufeff${valid}` });
cases.push({ name: 'file: CRLF line ends', outcome: 'accepted', text: JSON.stringify(sqlite(), null, 2).replaceAll('\n', '\r\n') });

// --- the env file's own path ------------------------------------------------------------------------------
for (const [label, brk] of Object.entries(LINE_BREAKS)) {
  if (label === 'LF' || label === 'CR') continue; // also covered, but not creatable on every filesystem tool
  cases.push({ name: `path: ${label} in the file name`, outcome: 'accepted', env: sqlite(), fileName: `x${brk}ansible_ssh_executable: id.json` });
}
cases.push({ name: 'path: LF in the file name', outcome: 'accepted', env: sqlite(), fileName: 'x\nansible_ssh_executable: id.json' });
cases.push({ name: 'path: CR in the file name', outcome: 'accepted', env: sqlite(), fileName: 'x\rhost_key_checking = False.json' });
cases.push({ name: 'path: shell and template text', outcome: 'accepted', env: sqlite(), fileName: "$(id) `id` {{ x }} 'q'.json" });
cases.push({ name: 'path: escape sequence', outcome: 'accepted', env: sqlite(), fileName: '\u001b[31mred.json' });

// -----------------------------------------------------------------------------------------------------------
const work = mkdtempSync(path.join(tmpdir(), 'tb-sweep-'));
const tally = { 'refused properly': 0, 'accepted safely': 0, 'accepted with a problem': 0, 'refused wrongly': 0 };
type Verdict = keyof typeof tally;
const rendered: { name: string; dir: string; env: EnvInput }[] = [];

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const { code, stdout, stderr } = await runMain(argv, { cwd: work });
  return { code, out: stdout, err: stderr };
}

// C0 (but newline), DEL, C1, line and paragraph separators, bidi controls.
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

afterAll(() => {
  process.stdout.write(`adversarial sweep: ${cases.length} inputs; ${Object.entries(tally).map(([k, v]) => `${k}: ${v}`).join(', ')}\n`);
});

describe(`adversarial sweep (${cases.length} inputs)`, () => {
  it('has at least 150 inputs', () => {
    expect(cases.length).toBeGreaterThanOrEqual(150);
  });

  it.each(cases.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, index) => {
    const dir = path.join(work, `case-${index}`);
    mkdirSync(dir);
    const file = path.join(dir, c.fileName ?? 'env.json');
    writeFileSync(file, c.text ?? JSON.stringify(c.env));
    const out = path.join(dir, 'project');
    const validate = await cli(['validate', '--env', file]);
    const render = await cli(['render', '--env', file, '--out', out]);
    for (const run of [validate, render]) {
      expect(`${run.out}${run.err}`).not.toMatch(RAW_CONTROL);
      expect(run.err).not.toMatch(/\n\s+at /);
    }
    if (c.outcome === 'refused') {
      const ok = validate.code === 1 && render.code === 1 && !existsSync(out) && validate.err.includes(`${c.field}:`);
      const verdict: Verdict = ok ? 'refused properly' : validate.code === 0 ? 'accepted with a problem' : 'refused wrongly';
      tally[verdict] += 1;
      expect(validate.code).toBe(1);
      expect(render.code).toBe(1);
      expect(validate.err).toContain(`${c.field}:`);
      expect(existsSync(out)).toBe(false);
    } else {
      if (validate.code !== 0 || render.code !== 0) tally['refused wrongly'] += 1;
      expect(validate.err).toBe('');
      expect(validate.code).toBe(0);
      expect(render.code).toBe(0);
      rendered.push({ name: c.name, dir: out, env: JSON.parse(c.text ? c.text.replace(/^\ufeff/, '') : JSON.stringify(c.env)) as EnvInput });
    }
  });

  // One Python process reads every rendered project with Ansible's own loader and config
  // parser; what it finds is compared here with what the env files said.
  it('every accepted input renders a project Ansible reads back exactly', () => {
    const reader = `
import configparser, json, os, sys
from ansible.parsing.yaml.loader import AnsibleLoader
def load(p):
    with open(p, encoding='utf-8') as f:
        return AnsibleLoader(f.read()).get_single_data()
def plain(v):
    if isinstance(v, dict): return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, list): return [plain(x) for x in v]
    if isinstance(v, str): return str(v)
    return v
out = {}
def read(d):
    r = {'group_vars': {}}
    r['inventory'] = plain(load(os.path.join(d, 'inventory.yml')))
    gv = os.path.join(d, 'group_vars')
    for g in sorted(os.listdir(gv)):
        for f in sorted(os.listdir(os.path.join(gv, g))):
            r['group_vars'][g + '/' + f] = plain(load(os.path.join(gv, g, f)))
    c = configparser.ConfigParser(interpolation=None)
    c.read(os.path.join(d, 'ansible.cfg'), encoding='utf-8')
    r['cfg'] = {s: dict(c[s]) for s in c.sections()}
    return r
for d in json.load(sys.stdin):
    try:
        out[d] = read(d)
    except Exception as e:
        out[d] = {'error': type(e).__name__ + ': ' + str(e).replace(chr(10), ' ')}
print(json.dumps(out))
`;
    const parsed = JSON.parse(
      // Debian's python3, where apt installed Ansible (a pyenv python3 may come first on PATH).
      execFileSync('/usr/bin/python3', ['-c', reader], { input: JSON.stringify(rendered.map((r) => r.dir)), encoding: 'utf8', maxBuffer: 64 << 20 }),
    ) as Record<string, { error?: string; inventory: { all: { children: { tracker_servers: { children: Record<string, unknown> } } } }; group_vars: Record<string, Record<string, unknown>>; cfg: Record<string, Record<string, string>> }>;
    const hostKeys = new Set(['ansible_host', 'ansible_port', 'ansible_user', 'ansible_ssh_private_key_file', 'tracker_backup_deploy_dir']);
    const cfgKeys = new Set([
      'inventory', 'roles_path', 'callback_plugins', 'callbacks_enabled', 'host_key_checking', 'interpreter_python', 'retry_files_enabled', 'forks',
      'internal_poll_interval', 'pipelining', 'ssh_args',
    ]);
    const failures: Record<string, string[]> = {};
    for (const { name, dir, env } of rendered) {
      const project = parsed[dir];
      const problems: string[] = [];
      if (!project) problems.push('not read');
      else if (project.error) problems.push(`Ansible cannot read it: ${project.error}`);
      else {
        const groups = project.inventory.all.children.tracker_servers.children as Record<string, { hosts: Record<string, Record<string, unknown>>; vars: Record<string, unknown> }>;
        for (const group of Object.values(groups)) {
          if (Object.keys(group.vars).join() !== 'ansible_host_key_checking') problems.push(`group vars ${Object.keys(group.vars).join()}`);
          for (const [host, vars] of Object.entries(group.hosts)) {
            for (const key of Object.keys(vars)) if (!hostKeys.has(key)) problems.push(`${host} has ${key}`);
            const expected = env.instances?.find((i) => host.endsWith(`-${i.name}`))?.host ?? env.instance?.host;
            if (vars.ansible_host !== expected) problems.push(`${host} ansible_host ${JSON.stringify(vars.ansible_host)}`);
          }
        }
        for (const [file, vars] of Object.entries(project.group_vars)) {
          for (const key of Object.keys(vars)) if (!key.startsWith('tracker_backup_')) problems.push(`${file} has ${key}`);
        }
        const { database } = env.tracker.core;
        const password = 'password' in database ? database.password : undefined;
        if (password !== undefined) {
          const secrets = Object.entries(project.group_vars).find(([file]) => file.endsWith('/secrets.yml'))?.[1];
          if (secrets?.tracker_backup_mysql_password !== password) problems.push(`password read back as ${JSON.stringify(secrets?.tracker_backup_mysql_password)}`);
        }
        for (const section of Object.values(project.cfg)) for (const key of Object.keys(section)) if (!cfgKeys.has(key)) problems.push(`ansible.cfg has ${key}`);
      }
      const verdict: Verdict = problems.length === 0 ? 'accepted safely' : 'accepted with a problem';
      tally[verdict] += 1;
      if (problems.length > 0) failures[name] = problems;
    }
    expect(failures).toEqual({});
    expect(rendered.length).toBeGreaterThan(40);
  });
});
