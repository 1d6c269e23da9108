// Environment file -> the tracker_backup role's variables. Pure: every decision about
// what the role gets is made here, so the role's templates only place values.
import { checkCron } from '../env/cron.js';
import type { EnvFile } from '../env/schema.js';

export const DEFAULT_CONFIG_PATHS = [
  'storage/tracker/etc/tracker.toml',
  'storage/prometheus/etc/prometheus.yml',
  'storage/grafana/provisioning',
];

export interface RoleVars {
  /** Goes to group_vars in a normal file. */
  vars: Record<string, unknown>;
  /** Goes to a 0600 file of its own, tagged !unsafe so Ansible never templates it. */
  secrets: Record<string, string>;
}

export function defaultSqlitePath(databaseName: string): string {
  return `storage/tracker/lib/database/${databaseName}`;
}

export function roleVars(env: EnvFile): RoleVars {
  const backup = env.backup;
  const database = env.tracker.core.database;
  const vars: Record<string, unknown> = {
    tracker_backup_enabled: backup?.enabled ?? false,
    tracker_backup_deploy_dir: env.deploy_dir,
    tracker_backup_compose_files: backup?.compose_files ?? ['docker-compose.yml'],
    tracker_backup_tracker_service: backup?.tracker_service ?? 'tracker',
    tracker_backup_config_paths: backup?.config_paths ?? DEFAULT_CONFIG_PATHS,
    tracker_backup_image: backup?.image ?? '',
    tracker_backup_database_driver: database.driver,
    tracker_backup_mode: backup?.mode ?? 'stop',
    tracker_backup_compression: backup?.compression ?? 'gzip',
    tracker_backup_timeout_seconds: backup?.timeout_seconds ?? 3600,
    tracker_backup_tracker_stop_signal: backup?.tracker_stop_signal ?? 'SIGINT',
    tracker_backup_tracker_stop_timeout: backup?.tracker_stop_timeout ?? 10,
    // The deployer puts mysql on database_network; the backup must reach it there.
    tracker_backup_compose_networks: backup?.compose_networks ?? (database.driver === 'mysql' ? ['database_network'] : []),
  };
  if (backup) {
    const cron = checkCron(backup.schedule);
    // The schema has already refused schedules checkCron rejects.
    vars.tracker_backup_schedule = cron.ok ? cron.normalized : backup.schedule;
    vars.tracker_backup_retention_days = backup.retention_days;
  }
  const secrets: Record<string, string> = {};
  if (database.driver === 'sqlite3') {
    vars.tracker_backup_sqlite_path = backup?.sqlite_path ?? defaultSqlitePath(database.database_name);
  } else {
    vars.tracker_backup_mysql_host = database.host;
    vars.tracker_backup_mysql_port = database.port;
    vars.tracker_backup_mysql_database = database.database_name;
    vars.tracker_backup_mysql_user = database.username;
    secrets.tracker_backup_mysql_password = database.password;
  }
  return { vars, secrets };
}
