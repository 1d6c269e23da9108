// The role's side of the environment file: which role variable, and which backup.conf key,
// each field becomes, and the role's own variables that have no field. A mapped field's
// type, default, allowed values, range and description are read from the schema (its
// public JSON Schema), so they are written once, in src/env/schema.ts. From this list
// scripts/generate-schema.ts writes the role's defaults/main.yml, meta/argument_specs.yml,
// tasks/validate.yml, the README's variable table and files/lib/settings.tsv (the spec the
// host program checks backup.conf against); test/env/contract.test.ts fails when they drift.
import { jsonSchemaOf, nodesAt, schemaAt, type JsonNode } from './describe.js';
import { envSchema } from './schema.js';

export type RoleType = 'bool' | 'int' | 'str' | 'path' | 'list' | 'raw';
/** The host settings spec's types (settings.tsv). */
export type ConfType = 'int' | 'enum' | 'relpath' | 'text';

/** A role variable written from an environment file field. */
interface Mapped {
  variable: string;
  /** Dotted path in the environment file; across union branches (the database drivers). */
  field: string;
  /** Data that picks the union branch the field belongs to (the MySQL fields). */
  where?: unknown;
  /** Its backup.conf key, if the host scripts read it. */
  conf?: { key: string; type?: 'relpath' | 'text' };
  /** Ansible's `path` type instead of `str` (expands `~`). */
  path?: true;
  /**
   * The role's default where the schema has none, because the field is required or its
   * default depends on other fields: the schema's example, or a value meaning "none".
   */
  roleDefault?: 'example' | { value: unknown };
  noLog?: true;
  /**
   * Ansible's `raw` type, for a secret that may be a !vault value: ansible-core 2.14's
   * argument check fails the play on one under `str` or `no_log` (ansible/ansible#79624),
   * and raw cannot fail a conversion, so no message can quote the value. The task that
   * writes it is no_log.
   */
  raw?: true;
  /** The role's description, where the schema's speaks of the environment file's forms. */
  description?: string;
}

/** A role variable with no environment file field; declared here, and only here. */
interface Own {
  variable: string;
  type: RoleType;
  default: unknown;
  description: string;
  choices?: readonly string[];
  pattern?: string;
}

type Entry = Mapped | Own;

const MYSQL = { tracker: { core: { database: { driver: 'mysql' } } } };

const ENTRIES: readonly Entry[] = [
  { variable: 'tracker_backup_enabled', field: 'backup.enabled' },
  { variable: 'tracker_backup_deploy_dir', field: 'deploy_dir', path: true },
  { variable: 'tracker_backup_compose_files', field: 'backup.compose_files' },
  { variable: 'tracker_backup_tracker_service', field: 'backup.tracker_service', conf: { key: 'TRACKER_SERVICE', type: 'text' } },
  { variable: 'tracker_backup_schedule', field: 'backup.schedule' },
  { variable: 'tracker_backup_retention_days', field: 'backup.retention_days', conf: { key: 'RETENTION_DAYS' } },
  { variable: 'tracker_backup_database_driver', field: 'tracker.core.database.driver', conf: { key: 'DATABASE_DRIVER' }, roleDefault: 'example' },
  { variable: 'tracker_backup_sqlite_path', field: 'backup.sqlite_path', conf: { key: 'SQLITE_PATH', type: 'relpath' }, roleDefault: 'example' },
  { variable: 'tracker_backup_mysql_host', field: 'tracker.core.database.host', where: MYSQL, conf: { key: 'MYSQL_HOST', type: 'text' }, roleDefault: 'example' },
  { variable: 'tracker_backup_mysql_port', field: 'tracker.core.database.port', where: MYSQL, conf: { key: 'MYSQL_PORT' }, roleDefault: 'example' },
  { variable: 'tracker_backup_mysql_database', field: 'tracker.core.database.database_name', where: MYSQL, conf: { key: 'MYSQL_DATABASE', type: 'text' }, roleDefault: 'example' },
  { variable: 'tracker_backup_mysql_user', field: 'tracker.core.database.username', where: MYSQL, conf: { key: 'MYSQL_USER', type: 'text' }, roleDefault: 'example' },
  {
    variable: 'tracker_backup_mysql_password',
    field: 'tracker.core.database.password',
    where: MYSQL,
    roleDefault: { value: '' },
    raw: true,
    description: "The MySQL user's password (text or a !vault value); kept in a 0600 file on the host, never on a command line.",
  },
  { variable: 'tracker_backup_config_paths', field: 'backup.config_paths' },
  {
    variable: 'tracker_backup_alerts_ping_url',
    field: 'backup.alerts.ping_url',
    roleDefault: { value: '' },
    raw: true,
    description:
      'A healthchecks.io-style ping URL (text or a !vault value): <url>/start, <url> on success, <url>/fail on failure, the log tail in the body. Kept in a 0600 file on the host, never on a command line. Empty: no pings.',
  },
  { variable: 'tracker_backup_metrics_textfile_dir', field: 'backup.metrics.textfile_dir', conf: { key: 'METRICS_DIR', type: 'text' } },
  { variable: 'tracker_backup_image', field: 'backup.image', roleDefault: { value: '' } },
  {
    variable: 'tracker_backup_run_initial',
    type: 'bool',
    default: true,
    description: 'Take a backup in the run phase when the host has none verified yet.',
  },
  { variable: 'tracker_backup_mode', field: 'backup.mode', conf: { key: 'MODE' } },
  { variable: 'tracker_backup_compression', field: 'backup.compression', conf: { key: 'COMPRESSION' } },
  { variable: 'tracker_backup_timeout_seconds', field: 'backup.timeout_seconds', conf: { key: 'TIMEOUT_SECONDS' } },
  { variable: 'tracker_backup_tracker_stop_signal', field: 'backup.tracker_stop_signal', conf: { key: 'STOP_SIGNAL' } },
  { variable: 'tracker_backup_tracker_stop_timeout', field: 'backup.tracker_stop_timeout', conf: { key: 'STOP_TIMEOUT' } },
  // The render step picks ["database_network"] for MySQL; the role on its own joins none.
  { variable: 'tracker_backup_compose_networks', field: 'backup.compose_networks', roleDefault: { value: [] } },
  { variable: 'tracker_backup_offsite_repository', field: 'backup.offsite.repository', roleDefault: { value: '' }, noLog: true,
    description: 'The restic repository of the off-site copies, or empty for none. Kept in a 0600 file on the host.' },
  {
    variable: 'tracker_backup_offsite_password',
    field: 'backup.offsite.password',
    roleDefault: { value: '' },
    raw: true,
    description: 'The restic repository password (text or a !vault value); kept in a 0600 file on the host, never on a command line.',
  },
  {
    variable: 'tracker_backup_offsite_env',
    field: 'backup.offsite.env',
    raw: true,
    description: 'Backend credentials for restic (NAME to text or a !vault value), each in a 0600 file on the host.',
  },
  { variable: 'tracker_backup_offsite_keep_daily', field: 'backup.offsite.keep_daily', conf: { key: 'OFFSITE_KEEP_DAILY' } },
  { variable: 'tracker_backup_offsite_keep_weekly', field: 'backup.offsite.keep_weekly', conf: { key: 'OFFSITE_KEEP_WEEKLY' } },
  { variable: 'tracker_backup_offsite_keep_monthly', field: 'backup.offsite.keep_monthly', conf: { key: 'OFFSITE_KEEP_MONTHLY' } },
  { variable: 'tracker_backup_offsite_check_every_days', field: 'backup.offsite.check_every_days', conf: { key: 'OFFSITE_CHECK_EVERY_DAYS' } },
  { variable: 'tracker_backup_offsite_check_read_data_subset', field: 'backup.offsite.check_read_data_subset', conf: { key: 'OFFSITE_CHECK_SUBSET', type: 'text' } },
  {
    variable: 'tracker_backup_offsite_ssh_key',
    field: 'backup.offsite.ssh_key',
    roleDefault: { value: '' },
    raw: true,
    description: 'sftp: the private key restic logs in with (text or a !vault value); empty: none. Kept in a 0600 file on the host.',
  },
  { variable: 'tracker_backup_offsite_known_hosts', field: 'backup.offsite.known_hosts', roleDefault: { value: [] } },
  {
    variable: 'tracker_backup_group',
    type: 'str',
    default: '',
    description:
      'Group (name or numeric id) that may read the backups, manifests, status.json, backup.conf and the log, so the guide\'s checks work over SSH as the deploy user. Empty: the primary group of the SSH user (ansible_user), root\'s when there is none. Nobody else may read them, and the MySQL password file stays root\'s.',
  },
  {
    variable: 'tracker_backup_restore_at',
    type: 'str',
    default: 'latest',
    description: 'Restore (restore.yml, `npm run restore`): the backup to restore, YYYYMMDD_HHMMSS or latest.',
    pattern: '^(latest|[0-9]{8}_[0-9]{6})$',
  },
  {
    variable: 'tracker_backup_restore_from',
    type: 'str',
    default: 'local',
    choices: ['local', 'offsite'],
    description: 'Restore: local (the host\'s store) or offsite (a snapshot of this host in backup.offsite\'s restic repository, fetched and checked first).',
  },
  { variable: 'tracker_backup_restore_only', type: 'str', default: 'all', choices: ['all', 'database', 'config'], description: 'Restore: what to restore.' },
  { variable: 'tracker_backup_restore_yes', type: 'bool', default: false, description: 'Restore: false only shows the plan.' },
  {
    variable: 'tracker_backup_restore_from_dir',
    type: 'str',
    default: '',
    description:
      'Restore: a directory on the controller with sqlite/ mysql/ config/ manifests/ to upload first (disaster recovery onto a new host); empty: use the host\'s own backups.',
  },
];

/** backup.conf keys the role computes on the host rather than taking from a variable. */
const COMPUTED_CONF: readonly { key: string; variable: string; type: 'int' | 'text'; rule: string }[] = [
  // The name off-site snapshots are filed under (restic --host): the inventory host,
  // which stays the same on a rebuilt machine, unlike the container's host name.
  { key: 'OFFSITE_HOST', variable: 'inventory_hostname', type: 'text', rule: '-' },
  // The numeric id of tracker_backup_group, looked up on the host (tasks/storage.yml).
  { key: 'BACKUP_GID', variable: 'tracker_backup_gid', type: 'int', rule: '0..4294967294' },
];

export interface ConfSpec {
  key: string;
  type: ConfType;
  /** `MIN..MAX` for int, `a|b|c` for enum, `-` otherwise. */
  rule: string;
}

/** One role variable, every fact about it resolved. */
export interface Setting {
  variable: string;
  /** The environment file field it comes from, when it has one. */
  field?: string;
  type: RoleType;
  default: unknown;
  description: string;
  choices?: readonly unknown[];
  minimum?: number;
  maximum?: number;
  /** What a string, or each string of a list, must match (JavaScript syntax, anchored). */
  pattern?: string;
  maxLength?: number;
  noLog: boolean;
  conf?: ConfSpec;
}

const ROLE_TYPES: Record<string, RoleType> = { boolean: 'bool', integer: 'int', string: 'str', array: 'list' };

function choicesOf(nodes: readonly JsonNode[]): unknown[] | undefined {
  if (nodes.every((n) => n.enum)) return [...new Set(nodes.flatMap((n) => n.enum ?? []))];
  if (nodes.every((n) => n.const !== undefined)) return nodes.map((n) => n.const);
  return undefined;
}

function confSpec(conf: NonNullable<Mapped['conf']>, setting: Omit<Setting, 'conf'>): ConfSpec {
  if (conf.type) return { key: conf.key, type: conf.type, rule: '-' };
  if (setting.choices) return { key: conf.key, type: 'enum', rule: setting.choices.join('|') };
  if (setting.type === 'int' && setting.minimum !== undefined && setting.maximum !== undefined) {
    return { key: conf.key, type: 'int', rule: `${setting.minimum}..${setting.maximum}` };
  }
  throw new Error(`${conf.key}: give the backup.conf type of ${setting.variable} (a ${setting.type} without a range or choices)`);
}

function resolve(entry: Entry, root: JsonNode): Setting {
  if (!('field' in entry)) {
    const { variable, type, description, choices, pattern } = entry;
    return { variable, type, default: entry.default, description, choices, pattern, noLog: false };
  }
  const chosen = entry.where === undefined ? undefined : schemaAt(root, entry.field.split('.'), entry.where);
  const nodes = chosen ? [chosen] : nodesAt(root, entry.field);
  const first = nodes[0];
  if (!first) throw new Error(`${entry.variable}: the schema has no field ${entry.field}`);
  const jsonType = first.type ?? (first.const !== undefined ? typeof first.const : undefined);
  const type = entry.raw ? 'raw' : entry.path ? 'path' : ROLE_TYPES[jsonType ?? ''];
  if (!type) throw new Error(`${entry.variable}: ${entry.field} has no type a role variable can take`);
  let fallback: unknown;
  if (entry.roleDefault === 'example') fallback = first.examples?.[0];
  else if (entry.roleDefault) fallback = entry.roleDefault.value;
  const value = first.default ?? fallback;
  if (value === undefined) throw new Error(`${entry.variable}: ${entry.field} has no default in the schema; give the role's`);
  const setting: Omit<Setting, 'conf'> = {
    variable: entry.variable,
    field: entry.field,
    type,
    default: value,
    description: entry.description ?? first.description ?? '',
    choices: choicesOf(nodes),
    minimum: first.minimum,
    maximum: first.maximum,
    pattern: (first.items ?? first).pattern,
    maxLength: (first.items ?? first).maxLength,
    noLog: entry.noLog ?? false,
  };
  return entry.conf ? { ...setting, conf: confSpec(entry.conf, setting) } : setting;
}

/** Every public role variable, in the order defaults/main.yml lists them. */
export function roleSettings(): Setting[] {
  const root = jsonSchemaOf(envSchema);
  return ENTRIES.map((entry) => resolve(entry, root));
}

/** Every backup.conf key with its type and rule, in the order settings.tsv lists them. */
export function confSpecs(): (ConfSpec & { variable: string })[] {
  const mapped = roleSettings().flatMap((s) => (s.conf ? [{ ...s.conf, variable: s.variable }] : []));
  return [...mapped, ...COMPUTED_CONF.map(({ key, variable, type, rule }) => ({ key, type, rule, variable }))];
}

/** The role variable an environment file field becomes (`backup.mode` -> `tracker_backup_mode`). */
export function roleVariable(field: string): string {
  const entry = ENTRIES.find((e) => 'field' in e && e.field === field);
  if (!entry) throw new Error(`no role variable for ${field}`);
  return entry.variable;
}

/** The role's default for a variable, as defaults/main.yml has it. */
export function roleDefault(variable: string): unknown {
  const setting = roleSettings().find((s) => s.variable === variable);
  if (!setting) throw new Error(`no role variable ${variable}`);
  return setting.default;
}
