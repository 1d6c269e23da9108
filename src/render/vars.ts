// Environment file -> the tracker_backup role's variables. Pure: every decision about
// what the role gets is made here, so the role's templates only place values. Names come
// from the contract and defaults from the schema (src/env/contract.ts, src/env/schema.ts).
import { roleDefault, roleVariable } from '../env/contract.js';
import { checkCron } from '../env/cron.js';
import { backupSchema, type EnvFile } from '../env/schema.js';

export interface RoleVars {
  /** Goes to group_vars in a normal file. */
  vars: Record<string, unknown>;
  /** Goes to a 0600 file of its own, tagged !unsafe so Ansible never templates it. */
  secrets: Record<string, string | Record<string, string>>;
}

/** `"backup": {}`: every field at the schema's default. */
const BACKUP_DEFAULTS = backupSchema.parse({});

export function defaultSqlitePath(databaseName: string): string {
  return `storage/tracker/lib/database/${databaseName}`;
}

export function roleVars(env: EnvFile): RoleVars {
  const database = env.tracker.core.database;
  // No backup section: backups are off, and the tooling is still set up with the defaults.
  const backup = env.backup ?? { ...BACKUP_DEFAULTS, enabled: false };
  const vars: Record<string, unknown> = {};
  const set = (field: string, value: unknown) => {
    vars[roleVariable(field)] = value;
  };
  set('backup.enabled', backup.enabled);
  set('deploy_dir', env.deploy_dir);
  set('backup.compose_files', backup.compose_files);
  set('backup.tracker_service', backup.tracker_service);
  set('backup.config_paths', backup.config_paths);
  set('backup.image', backup.image ?? roleDefault(roleVariable('backup.image')));
  set('tracker.core.database.driver', database.driver);
  set('backup.mode', backup.mode);
  set('backup.compression', backup.compression);
  set('backup.timeout_seconds', backup.timeout_seconds);
  set('backup.tracker_stop_signal', backup.tracker_stop_signal);
  set('backup.tracker_stop_timeout', backup.tracker_stop_timeout);
  // The deployer puts mysql on database_network; the backup must reach it there.
  set('backup.compose_networks', backup.compose_networks ?? (database.driver === 'mysql' ? ['database_network'] : []));
  set('backup.metrics.textfile_dir', backup.metrics.textfile_dir);
  if (env.backup) {
    const cron = checkCron(env.backup.schedule);
    // The schema has already refused schedules checkCron rejects.
    set('backup.schedule', cron.ok ? cron.normalized : env.backup.schedule);
    set('backup.retention_days', env.backup.retention_days);
  }
  const secrets: RoleVars['secrets'] = {};
  const offsite = backup.offsite;
  set('backup.offsite.repository', offsite?.repository ?? roleDefault(roleVariable('backup.offsite.repository')));
  set('backup.offsite.known_hosts', offsite?.known_hosts ?? []);
  for (const field of ['keep_daily', 'keep_weekly', 'keep_monthly', 'check_every_days', 'check_read_data_subset'] as const) {
    set(`backup.offsite.${field}`, offsite?.[field] ?? roleDefault(roleVariable(`backup.offsite.${field}`)));
  }
  if (offsite) {
    secrets[roleVariable('backup.offsite.password')] = offsite.password;
    // The loader has resolved each value (secretPaths walks a record's values).
    if (Object.keys(offsite.env).length > 0) secrets[roleVariable('backup.offsite.env')] = offsite.env as Record<string, string>;
    if (offsite.ssh_key !== undefined) secrets[roleVariable('backup.offsite.ssh_key')] = offsite.ssh_key;
  }
  if (database.driver === 'sqlite3') {
    set('backup.sqlite_path', backup.sqlite_path ?? defaultSqlitePath(database.database_name));
  } else {
    set('tracker.core.database.host', database.host);
    set('tracker.core.database.port', database.port);
    set('tracker.core.database.database_name', database.database_name);
    set('tracker.core.database.username', database.username);
    secrets[roleVariable('tracker.core.database.password')] = database.password;
  }
  // Its path is the check's key: kept like the password, out of the plain vars file.
  if (env.backup?.alerts) secrets[roleVariable('backup.alerts.ping_url')] = env.backup.alerts.ping_url;
  return { vars, secrets };
}
