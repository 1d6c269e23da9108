import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseEnv } from '../../src/env/load.js';
import { renderProject, SECRETS_FILE, VARS_FILE, type Project } from '../../src/render/project.js';
import { loadSources } from '../../src/render/sources.js';
import { roleVars } from '../../src/render/vars.js';
import { deployerEnv, exampleEnv, ROOT, withValue } from '../helpers.js';

async function render(data: Record<string, unknown>): Promise<Project> {
  return renderProject(parseEnv('e.json', JSON.stringify(data)), await loadSources('envs/e.json', '/home/op', ROOT));
}

/** What Ansible will see: YAML 1.1, where yes/no/on are booleans. */
function asAnsible(project: Project, file: string): Record<string, unknown> {
  const text = project.get(file)?.content;
  if (text === undefined) throw new Error(`${file} not rendered`);
  return parse(text, { version: '1.1', customTags: [{ tag: '!unsafe', resolve: (s: string) => s }] }) as Record<string, unknown>;
}

describe('roleVars maps the environment to the role one name to one name', () => {
  it('normalizes the schedule and carries retention', () => {
    const { vars } = roleVars(parseEnv('e.json', JSON.stringify(withValue(exampleEnv(), 'backup.schedule', '0 3 * * sun'))));
    expect(vars).toMatchObject({ tracker_backup_schedule: '0 3 * * 0', tracker_backup_retention_days: 7, tracker_backup_enabled: true });
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
    const inventory = asAnsible(await render(data), 'inventory.yml') as any;
    expect(inventory.all.children.tracker_servers.hosts['my-deployment']).toEqual({
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
    expect((await render(exampleEnv())).has(SECRETS_FILE)).toBe(false);
    const project = await render(withValue(deployerEnv(), 'tracker.core.database.password', 'a{{b}}c'));
    const secrets = project.get(SECRETS_FILE);
    expect(secrets?.mode).toBe(0o600);
    expect(secrets?.content).toContain('tracker_backup_mysql_password: !unsafe');
    expect(asAnsible(project, SECRETS_FILE).tracker_backup_mysql_password).toBe('a{{b}}c');
    expect(project.get(VARS_FILE)?.content).not.toContain('a{{b}}c');
  });

  it('sets host key checking from the environment', async () => {
    expect((await render(exampleEnv())).get('ansible.cfg')?.content).toContain('host_key_checking = True');
    const off = await render(withValue(exampleEnv(), 'ansible.host_key_checking', false));
    expect(off.get('ansible.cfg')?.content).toContain('host_key_checking = False');
  });
});
