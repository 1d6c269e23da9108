import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseEnv } from '../../src/env/load.js';
import { renderProject, secretsFile, varsFile, type Project } from '../../src/render/project.js';

const VARS_FILE = varsFile('my-deployment');
import { loadSources } from '../../src/render/sources.js';
import { roleVars } from '../../src/render/vars.js';
import { deployerEnv, exampleEnv, ROOT, withValue } from '../helpers.js';

async function render(data: Record<string, unknown>): Promise<Project> {
  return renderProject(parseEnv('e.json', JSON.stringify(data)), await loadSources('/home/op', ROOT));
}

/** What Ansible will see: YAML 1.1, where yes/no/on are booleans. */
function asAnsible(project: Project, file: string): Record<string, unknown> {
  const text = project.get(file)?.content;
  if (text === undefined) throw new Error(`${file} not rendered`);
  return parse(text, { version: '1.1', customTags: [{ tag: '!unsafe', resolve: (s: string) => s }] }) as Record<string, unknown>;
}

type HostVars = Record<string, unknown>;
type Groups = Record<string, { hosts: Record<string, HostVars> }>;

/** inventory.yml's groups, one per environment, each holding its hosts' variables. */
function inventoryGroups(project: Project): Groups {
  return (asAnsible(project, 'inventory.yml') as { all: { children: { tracker_servers: { children: Groups } } } }).all.children.tracker_servers.children;
}

/** One host's variables in inventory.yml; a missing group or host fails the test. */
function hostVars(project: Project, group: string, host: string): HostVars {
  const vars = inventoryGroups(project)[group]?.hosts[host];
  if (!vars) throw new Error(`${group}/${host} not in inventory.yml`);
  return vars;
}

describe('roleVars maps the environment to the role one name to one name', () => {
  it('normalizes the schedule and carries retention', () => {
    const { vars } = roleVars(parseEnv('e.json', JSON.stringify(withValue(exampleEnv(), 'backup.schedule', '0 3 * * sun'))));
    expect(vars).toMatchObject({ tracker_backup_schedule: '0 3 * * 0', tracker_backup_retention_days: 7, tracker_backup_enabled: true });
  });

  it('sends the tracker SIGINT first unless tracker_stop_signal says otherwise', () => {
    const vars = (data: Record<string, unknown>) => roleVars(parseEnv('e.json', JSON.stringify(data))).vars;
    expect(vars(withValue(exampleEnv(), 'backup.tracker_stop_signal', undefined)).tracker_backup_tracker_stop_signal).toBe('SIGINT');
    expect(vars(withValue(exampleEnv(), 'backup', undefined)).tracker_backup_tracker_stop_signal).toBe('SIGINT');
    expect(vars(withValue(exampleEnv(), 'backup.tracker_stop_signal', 'SIGTERM')).tracker_backup_tracker_stop_signal).toBe('SIGTERM');
  });

  it("puts the SQLite database in the deployer's layout by default", () => {
    const env = withValue(withValue(exampleEnv(), 'backup.sqlite_path', undefined), 'tracker.core.database.database_name', 'sqlite3.db');
    expect(roleVars(parseEnv('e.json', JSON.stringify(env))).vars.tracker_backup_sqlite_path).toBe('storage/tracker/lib/database/sqlite3.db');
  });

  it('turns backups off when the section is missing or enabled is false', () => {
    expect(roleVars(parseEnv('e.json', JSON.stringify(withValue(exampleEnv(), 'backup', undefined)))).vars.tracker_backup_enabled).toBe(false);
    expect(roleVars(parseEnv('e.json', JSON.stringify(withValue(exampleEnv(), 'backup.enabled', false)))).vars.tracker_backup_enabled).toBe(false);
  });

  it('keeps the MySQL password out of the vars and in the secrets', () => {
    const { vars, secrets } = roleVars(parseEnv('e.json', JSON.stringify(deployerEnv())));
    expect(JSON.stringify(vars)).not.toContain('secure_password');
    expect(secrets).toEqual({ tracker_backup_mysql_password: 'secure_password' });
  });

  it('keeps the alert ping URL (its path is the check\'s key) in the secrets, and passes the metrics directory', () => {
    const url = 'https://hc-ping.com/0a1b2c3d-secret';
    const env = withValue(withValue(exampleEnv(), 'backup.alerts', { ping_url: url }), 'backup.metrics', { textfile_dir: '/srv/textfile' });
    const { vars, secrets } = roleVars(parseEnv('e.json', JSON.stringify(env)));
    expect(JSON.stringify(vars)).not.toContain('0a1b2c3d');
    expect(secrets).toEqual({ tracker_backup_alerts_ping_url: url });
    expect(vars.tracker_backup_metrics_textfile_dir).toBe('/srv/textfile');
    const none = roleVars(parseEnv('e.json', JSON.stringify(exampleEnv())));
    expect(none.secrets).toEqual({});
    expect(none.vars.tracker_backup_metrics_textfile_dir).toBe('/var/lib/prometheus/node-exporter');
  });
});

describe('renderProject', () => {
  it('produces a self-contained project: config, inventory, vars, playbooks, role', async () => {
    const project = await render(exampleEnv());
    for (const file of ['ansible.cfg', 'inventory.yml', VARS_FILE, 'site.yml', 'release.yml', 'run.yml', 'callback_plugins/tracker_backup_stats.py', 'roles/tracker_backup/tasks/main.yml', 'roles/tracker_backup/files/maintenance-backup.sh']) {
      expect(project.has(file), file).toBe(true);
    }
    expect([...project.keys()].some((f) => f.includes('molecule'))).toBe(false);
  });

  it('writes the inventory from the environment, with relative key paths made absolute', async () => {
    const data = withValue(withValue(exampleEnv(), 'ssh_credentials.private_key_path', 'keys/id'), 'ssh_credentials.port', 2222);
    expect(hostVars(await render(data), 'env_my_deployment', 'my-deployment')).toEqual({
      ansible_host: '203.0.113.10',
      ansible_port: 2222,
      ansible_user: 'torrust',
      ansible_ssh_private_key_file: '/home/op/keys/id',
    });
  });

  it('quotes values that YAML 1.1 would turn into booleans or numbers', async () => {
    const data = withValue(withValue(exampleEnv(), 'backup.tracker_service', 'yes'), 'backup.config_paths', ['on', '0755']);
    const vars = asAnsible(await render(data), VARS_FILE);
    expect(vars.tracker_backup_tracker_service).toBe('yes');
    expect(vars.tracker_backup_config_paths).toEqual(['on', '0755']);
  });

  it('writes no secrets file for SQLite, and a 0600 one tagged !unsafe for MySQL', async () => {
    expect((await render(exampleEnv())).has(secretsFile('my-deployment'))).toBe(false);
    const project = await render(withValue(deployerEnv(), 'tracker.core.database.password', 'a{{b}}c'));
    const secrets = project.get(secretsFile('tracker-demo'));
    expect(secrets?.mode).toBe(0o600);
    expect(secrets?.content).toContain('tracker_backup_mysql_password: !unsafe');
    expect(asAnsible(project, secretsFile('tracker-demo')).tracker_backup_mysql_password).toBe('a{{b}}c');
    expect(project.get(varsFile('tracker-demo'))?.content).not.toContain('a{{b}}c');
  });

  it('puts several environments and their instances into one inventory, each with its own vars', async () => {
    const fleet = withValue(
      withValue(withValue(exampleEnv(), 'environment.name', 'fleet'), 'instance', undefined),
      'instances',
      [
        { name: 'eu', host: '198.51.100.1' },
        { name: 'us', host: '198.51.100.2', port: 2200, username: 'ops', deploy_dir: '/srv/torrust' },
      ],
    );
    const envs = [parseEnv('a.json', JSON.stringify(exampleEnv())), parseEnv('b.json', JSON.stringify(withValue(fleet, 'backup.retention_days', 30)))];
    const project = renderProject(envs, await loadSources('/home/op', ROOT));
    const groups = inventoryGroups(project);
    expect(Object.keys(groups)).toEqual(['env_my_deployment', 'env_fleet']);
    expect(Object.keys(groups.env_fleet?.hosts ?? {})).toEqual(['fleet-eu', 'fleet-us']);
    expect(hostVars(project, 'env_fleet', 'fleet-us')).toMatchObject({ ansible_port: 2200, ansible_user: 'ops', tracker_backup_deploy_dir: '/srv/torrust' });
    expect(hostVars(project, 'env_fleet', 'fleet-eu')).toMatchObject({ ansible_port: 22, ansible_user: 'torrust' });
    expect(hostVars(project, 'env_fleet', 'fleet-eu').tracker_backup_deploy_dir).toBeUndefined();
    expect(asAnsible(project, varsFile('fleet')).tracker_backup_retention_days).toBe(30);
    expect(asAnsible(project, varsFile('my-deployment')).tracker_backup_retention_days).toBe(7);
  });

  it('refuses two environments with the same name rather than merging them', async () => {
    const env = parseEnv('a.json', JSON.stringify(exampleEnv()));
    const sources = await loadSources('/home/op', ROOT);
    expect(() => renderProject([env, env], sources)).toThrow('environment name "my-deployment" is given twice');
  });

  it('sets host key checking from the environment', async () => {
    expect((await render(exampleEnv())).get('ansible.cfg')?.content).toContain('host_key_checking = True');
    const off = await render(withValue(exampleEnv(), 'ansible.host_key_checking', false));
    expect(off.get('ansible.cfg')?.content).toContain('host_key_checking = False');
  });
});
