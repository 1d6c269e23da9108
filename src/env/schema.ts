// The environment file, as a zod schema. This file is the source: the JSON Schema in
// schemas/, the example env in docs/ and the hints in error messages are all derived
// from it (see src/env/generate.ts), so a field documented here is documented everywhere.
//
// Field names follow the Torrust Tracker Deployer's environment file where the two
// overlap, so an operator's deployer file plus `instance` is accepted as it is.
import { z } from 'zod';
import { checkCron } from './cron.js';
import { BACKUP_DIR, PATH_MAX, backupOverlap, deployDirProblem } from './paths.js';
import { isVaulted, vaultProblem } from './vault.js';

/** Ansible templates any string holding these, and a vars file is no place for that. */
const TEMPLATE_MARKERS = /\{\{|\{%|\{#/;
// Control characters would split the line-based files these values end up in.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

interface Doc {
  description: string;
  example: unknown;
}

function doc<T extends z.ZodType>(schema: T, { description, example }: Doc): T {
  return schema.meta({ description, examples: [example] });
}

/** A string that reaches Ansible vars, a config file or a cron line. */
function plain(pattern: RegExp, what: string, max = 1000) {
  return z
    .string()
    // abort: one problem per field is enough; "empty" need not also say "not a host name".
    .min(1, { error: 'must not be empty', abort: true })
    // Names and paths end up in file names and paths on both machines; past the file
    // system's limits they would fail late, in the middle of a render or a provision.
    .max(max, { error: `must be at most ${max} characters`, abort: true })
    .refine((s) => !TEMPLATE_MARKERS.test(s), { error: 'must not contain "{{", "{%" or "{#" (Ansible would template it)', abort: true })
    .refine((s) => !CONTROL_CHARS.test(s), { error: 'must not contain newlines or other control characters', abort: true })
    .regex(pattern, { error: `must be ${what}`, abort: true });
}

const SHELL_SAFE_PATH = 'made of letters, digits and "._/+-" only (it is used in a cron command line)';

/** A path below deploy_dir: relative, no "..", shell-safe. */
function relativePath(description: string, example: string) {
  return doc(
    plain(/^(?!\/)(?!.*(^|\/)\.\.(\/|$))[A-Za-z0-9._/+-]+$/, `a path relative to deploy_dir without "..", ${SHELL_SAFE_PATH}`, PATH_MAX),
    { description, example },
  );
}

/** A deploy directory: absolute, plain, not a system directory. */
function deployDir(description: string) {
  return doc(
    plain(ABSOLUTE, `an absolute path, ${SHELL_SAFE_PATH}`, PATH_MAX).superRefine((dir, ctx) => {
      const problem = deployDirProblem(dir);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
    { description: `${description} An absolute path of at most ${PATH_MAX} characters in plain form; "/", the top-level system directories (/etc, /usr, /var, ...) and system trees (/etc/..., /usr/... except /usr/local/<name>, /proc/..., ...) are refused.`, example: '/opt/torrust' },
  );
}

/** Signals `backup.tracker_stop_signal` may name; host.sh checks the same list. */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const;

const DEFAULT_CONFIG_PATHS = ['storage/tracker/etc/tracker.toml', 'storage/prometheus/etc/prometheus.yml', 'storage/grafana/provisioning'];

const SELF_ARCHIVE = 'each archive would hold the previous ones and the MySQL password file, doubling every run';

const port = (description: string, example: number) =>
  doc(z.number().int({ error: 'must be a whole number' }).min(1, { error: 'must be at least 1' }).max(65535, { error: 'must be at most 65535' }), {
    description,
    example,
  });

/**
 * The JSON Schema keyword that marks a secret field, for the loader to find: it replaces
 * their file and env forms with the text. Editors ignore x- keywords.
 */
export const SECRET_KEYWORD = 'x-secret';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A password or other secret, in one of four forms: the text itself, {"file": PATH},
 * {"env": "VAR"} or an ansible-vault string. Every secret field uses this, so each one
 * accepts the same forms and the loader resolves them all.
 */
function secret(description: string, example: string) {
  const text = z
    .string()
    .min(1, { error: 'must not be empty' })
    .refine((s) => !s.includes('\u0000'), { error: 'must not contain a NUL character' })
    // A lone surrogate has no UTF-8 form, and Ansible refuses the secrets file holding one.
    // With the u flag a surrogate pair is one code point, so only an unpaired half matches.
    .refine((s) => !/\p{Surrogate}/u.test(s), { error: 'must be valid Unicode (it holds a lone surrogate, e.g. a broken "\\ud83d" escape)' })
    .superRefine((s, ctx) => {
      const problem = isVaulted(s) ? vaultProblem(s) : undefined;
      if (problem) ctx.addIssue({ code: 'custom', message: `starts with $ANSIBLE_VAULT; but is not an ansible-vault string: it ${problem}` });
    });
  const fromFile = z.strictObject({
    file: doc(
      z
        .string()
        .min(1, { error: 'must not be empty' })
        .max(4096, { error: 'must be at most 4096 characters' })
        .refine((s) => !CONTROL_CHARS.test(s), { error: 'must not contain newlines or other control characters' }),
      { description: 'A file on the controller holding the secret (relative to the environment file\'s directory, or absolute, or ~/...).', example: 'secrets/mysql-password' },
    ),
  });
  const fromEnv = z.strictObject({
    env: doc(z.string().regex(ENV_NAME, { error: 'must be an environment variable name: letters, digits and "_", not starting with a digit' }), {
      description: 'An environment variable of the controller holding the secret.',
      example: 'TRACKER_DB_PASSWORD',
    }),
  });
  return z
    .union([text, fromFile, fromEnv], {
      error: (issue) => (issue.code === 'invalid_union' ? 'must be the secret as text, {"file": "PATH"}, {"env": "VARIABLE"} or an ansible-vault string' : undefined),
    })
    .meta({
      [SECRET_KEYWORD]: true,
      description: `${description} One of: the text itself (any Unicode text, byte for byte; only empty, NUL and lone surrogates are refused); {"file": "PATH"}, read on the controller when the environment file is loaded (a relative PATH is relative to the environment file's directory; a regular UTF-8 file of at most 64 KiB with no group or other permissions, e.g. mode 0600, like an ssh key; one trailing line break, \\n or \\r\\n, is dropped); {"env": "VARIABLE"}, read from the controller's environment, byte for byte (unset or empty is an error); or an ansible-vault string ("$ANSIBLE_VAULT;1.1;AES256\\n..." as ansible-vault encrypt_string prints it, indentation allowed), which stays encrypted in the generated project and is decrypted by Ansible with the vault password given after -- (--vault-id, --vault-password-file, --ask-vault-pass). A text value starting with "$ANSIBLE_VAULT;" is always taken as a vault string.`,
      examples: [example],
    });
}

const sqliteDatabase = z.strictObject({
  driver: doc(z.literal('sqlite3'), { description: 'Database driver: "sqlite3" or "mysql".', example: 'sqlite3' }),
  database_name: doc(plain(/^(?!\.)[A-Za-z0-9._+-]+$/, 'a file name (letters, digits, "._+-")', 128), {
    description: 'SQLite database file name, inside storage/tracker/lib/database/ unless backup.sqlite_path says otherwise.',
    example: 'tracker.db',
  }),
});

const mysqlDatabase = z.strictObject({
  driver: doc(z.literal('mysql'), { description: 'Database driver: "sqlite3" or "mysql".', example: 'mysql' }),
  host: doc(plain(/^[A-Za-z0-9][A-Za-z0-9.-]*$/, 'a host name or IPv4 address'), {
    description: 'MySQL host as the tracker sees it: the compose service name on the stack network.',
    example: 'mysql',
  }),
  port: port('MySQL port.', 3306),
  database_name: doc(plain(/^[A-Za-z0-9_]+$/, 'letters, digits and "_"'), { description: 'MySQL database name.', example: 'torrust_tracker' }),
  username: doc(plain(/^[A-Za-z0-9_.-]+$/, 'letters, digits and "_.-"'), {
    description: 'The tracker\'s MySQL user; backups connect as this user.',
    example: 'tracker_user',
  }),
  password: secret(
    'The tracker user\'s MySQL password. Stored on the host in a 0600 file, never on a command line.',
    's3cret-Pa$$word',
  ),
});

const database = z.discriminatedUnion('driver', [sqliteDatabase, mysqlDatabase], {
  error: (issue) =>
    issue.code === 'invalid_union' ? 'driver must be "sqlite3" or "mysql"' : undefined,
});

/** restic's repository forms this tool accepts: the backends Debian's restic 0.14 has. */
const RESTIC_REPOSITORY = /^(sftp:|rest:https?:\/\/|s3:|b2:|\/)\S+$/;
const RESTIC_ENV_NAME = /^[A-Z][A-Z0-9_]*$/;

function keep(what: string, fallback: number) {
  return doc(
    z.number().int({ error: 'must be a whole number' }).min(0, { error: 'must be at least 0' }).max(1000, { error: 'must be at most 1000' }).default(fallback),
    { description: `Default ${fallback}. restic forget --keep-${what}: off-site snapshots kept, one per ${what.replace(/ly$/, '').replace('dai', 'day')} (0-1000; 0 keeps none by this rule).`, example: fallback },
  );
}

export const offsiteSchema = z.strictObject({
  repository: doc(plain(RESTIC_REPOSITORY, 'a restic repository: sftp:user@host:/path, rest:http(s)://..., s3:..., b2:... or an absolute path', 2000), {
    description: 'The restic repository that receives a copy of each successful backup. Kept on the host in a 0600 file (a rest: URL may hold a user and password).',
    example: 'sftp:backup@backup.example.org:/srv/restic/tracker',
  }),
  password: secret('The restic repository password; restic encrypts the repository with a key it protects. Lost password = lost off-site backups: keep a copy elsewhere.', 'correct horse battery staple'),
  env: doc(z.record(z.string().regex(RESTIC_ENV_NAME, { error: 'must be an environment variable name in capitals (e.g. AWS_ACCESS_KEY_ID)' }), secret('A backend credential.', 'AKIA...')), {
    description: 'Backend credentials restic reads from its environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, B2_ACCOUNT_ID, B2_ACCOUNT_KEY, RESTIC_REST_USERNAME, RESTIC_REST_PASSWORD, ...), each a secret. Kept in 0600 files on the host and given to the one restic process only.',
    example: { AWS_ACCESS_KEY_ID: { env: 'AWS_ACCESS_KEY_ID' } },
  }).default({}),
  keep_daily: keep('daily', 7),
  keep_weekly: keep('weekly', 4),
  keep_monthly: keep('monthly', 6),
  check_every_days: doc(
    z.number().int({ error: 'must be a whole number of days' }).min(0, { error: 'must be at least 0' }).max(365, { error: 'must be at most 365' }).default(7),
    { description: 'Default 7. restic check runs after the upload when this many days have passed since the last one; 0 never.', example: 7 },
  ),
  check_read_data_subset: doc(plain(/^([1-9][0-9]?(\.[0-9]+)?%|100%|[1-9][0-9]*\/[1-9][0-9]*)$/, 'a percentage ("5%") or a fraction ("1/10")', 20), {
    description: 'Default "5%". What restic check --read-data-subset reads back and verifies of the pack files each time.',
    example: '5%',
  }).default('5%'),
  ssh_key: secret('sftp: the private key to log in with (OpenSSH format). Default: none (the backup container has no other key).', '-----BEGIN OPENSSH PRIVATE KEY-----...').optional(),
  known_hosts: doc(z.array(plain(/^[^\s]+ [^\s]+ [^\s]+$/, 'a known_hosts line: HOSTS KEYTYPE KEY', 16384)), {
    description: 'For sftp, the server\'s known_hosts lines (ssh-keyscan prints them). Without them the key first seen is trusted and kept (accept-new).',
    example: ['backup.example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA...'],
  }).optional(),
});

export const backupSchema = z.strictObject({
  enabled: doc(z.boolean().default(true), {
    description: 'Default true. false removes the cron entry on the next provision; backups already taken stay.',
    example: true,
  }),
  schedule: doc(
    z.string().superRefine((value, ctx) => {
      const result = checkCron(value);
      if (!result.ok) ctx.addIssue({ code: 'custom', message: `is not a Debian cron schedule: ${result.problem}` });
    }).default('0 3 * * *'),
    {
      description: 'Default "0 3 * * *" (the deployer\'s default: daily at 03:00). Five cron fields (minute hour day-of-month month day-of-week) as Debian cron reads them, in the host time zone (UTC on Torrust hosts). Names (sun, jan) are accepted on their own and written as numbers.',
      example: '0 3 * * *',
    },
  ),
  retention_days: doc(
    z.number().int({ error: 'must be a whole number of days' }).min(1, { error: 'must be at least 1' }).max(365, { error: 'must be at most 365' }).default(7),
    { description: 'Default 7 (the deployer\'s default). Backups older than this many days are deleted after each run (1-365).', example: 7 },
  ),
  sqlite_path: relativePath(
    `SQLite database file relative to deploy_dir. Default storage/tracker/lib/database/<database_name> (the deployer's layout). Not inside ${BACKUP_DIR}.`,
    'storage/tracker/lib/database/tracker.db',
  )
    .refine((p) => backupOverlap(p) !== 'is' && backupOverlap(p) !== 'inside', {
      error: `must not be inside the backup directory ${BACKUP_DIR}, where retention and restores manage the files`,
    })
    .optional(),
  config_paths: doc(
    z
      .array(
        relativePath('A file or directory to archive.', 'storage/tracker/etc/tracker.toml').superRefine((p, ctx) => {
          const overlap = backupOverlap(p);
          if (overlap === undefined) return;
          const relation = { is: 'is', contains: 'contains', inside: 'is inside' }[overlap];
          ctx.addIssue({ code: 'custom', message: `${relation} the backup directory ${BACKUP_DIR}: ${SELF_ARCHIVE}` });
        }),
      )
      .min(1, { error: 'must list at least one path' }),
    {
      description:
        `Files and directories (relative to deploy_dir, at most ${PATH_MAX} characters each) put in each config archive. Missing ones are skipped with a warning. None may be, contain or be inside ${BACKUP_DIR} (so not "." or "storage"). Default: tracker.toml, prometheus.yml, Grafana provisioning.`,
      example: DEFAULT_CONFIG_PATHS,
    },
  ).default(DEFAULT_CONFIG_PATHS),
  compose_files: doc(
    z.array(relativePath('A compose file of the operator\'s project.', 'docker-compose.yml')).min(1, { error: 'must list at least one file' }),
    {
      description: 'The operator\'s compose files in deploy_dir, in order. Default ["docker-compose.yml"]. The backup service file is added after them.',
      example: ['docker-compose.yml'],
    },
  ).default(['docker-compose.yml']),
  tracker_service: doc(plain(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a compose service name'), {
    description: 'Compose service stopped during a backup. Default "tracker".',
    example: 'tracker',
  }).default('tracker'),
  mode: doc(z.enum(['stop', 'online'], { error: 'must be "stop" or "online"' }).default('stop'), {
    description:
      'Default "stop": the tracker is stopped while the database snapshot is taken (the guide\'s behaviour). "online" never stops it: SQLite through VACUUM INTO, MySQL through one transaction.',
    example: 'stop',
  }),
  compression: doc(z.enum(['gzip', 'zstd'], { error: 'must be "gzip" or "zstd"' }).default('gzip'), {
    description:
      'Default "gzip": the guide\'s .gz file names. "zstd" writes .zst files, compressed on every core (several times faster on large databases); retention, verification and restore treat both alike.',
    example: 'gzip',
  }),
  timeout_seconds: doc(
    z.number().int({ error: 'must be a whole number of seconds' }).min(10, { error: 'must be at least 10' }).max(86400, { error: 'must be at most 86400' }).default(3600),
    { description: 'Default 3600. Each backup container step is killed after this long; the tracker is started again and the run fails.', example: 3600 },
  ),
  tracker_stop_timeout: doc(
    z.number().int({ error: 'must be a whole number of seconds' }).min(1, { error: 'must be at least 1' }).max(600, { error: 'must be at most 600' }).default(10),
    { description: 'Default 10. Seconds the tracker gets to exit after tracker_stop_signal before it is killed.', example: 10 },
  ),
  tracker_stop_signal: doc(
    z.enum(STOP_SIGNALS, { error: `must be one of ${STOP_SIGNALS.map((s) => `"${s}"`).join(', ')}` }).default('SIGINT'),
    {
      description:
        'Default "SIGINT". The signal the tracker\'s containers get first in stop mode and on restore; they are killed only if still running tracker_stop_timeout seconds later. torrust/tracker runs as PID 1 with no init and exits only on SIGINT (Ctrl-C), so it ignores docker stop\'s SIGTERM and would be down for the whole grace period; use "SIGTERM" for a tracker service that handles it.',
      example: 'SIGINT',
    },
  ),
  compose_networks: doc(
    z.array(plain(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a compose network name')),
    {
      description:
        'Compose networks the backup service joins. Default: ["database_network"] for MySQL (the deployer\'s network for the mysql service), none for SQLite.',
      example: ['database_network'],
    },
  ).optional(),
  alerts: doc(
    z.strictObject({
      ping_url: secret(
        'A healthchecks.io-style ping URL (http or https). Each run POSTs to <url>/start when it starts, to <url> when it succeeds and to <url>/fail when it fails or its off-site copy fails, with the run\'s last log lines (at most 10 kB) as the body. It often holds a secret key, so it is kept like a password: a 0600 file on the host, never in argv or logs.',
        'https://hc-ping.com/your-uuid',
      ),
    }),
    { description: 'Failure alerts (docs/monitoring.md). Default: none.', example: { ping_url: 'https://hc-ping.com/your-uuid' } },
  ).optional(),
  metrics: doc(
    z.strictObject({
      textfile_dir: doc(
        plain(/^\/(?!.*(^|\/)\.\.(\/|$))[A-Za-z0-9._/+-]*$/, 'an absolute path without "..", made of letters, digits and "._/+-" only', 4096),
        {
          description:
            'Default "/var/lib/prometheus/node-exporter" (node_exporter\'s textfile directory on Debian and Ubuntu). After every run tracker_backup.prom is written there, atomically, if the directory exists; it is never created, so hosts without node_exporter get nothing.',
          example: '/var/lib/prometheus/node-exporter',
        },
      ).default('/var/lib/prometheus/node-exporter'),
    }),
    { description: 'Prometheus metrics for node_exporter\'s textfile collector (docs/monitoring.md).', example: { textfile_dir: '/var/lib/prometheus/node-exporter' } },
  ).default({ textfile_dir: '/var/lib/prometheus/node-exporter' }),
  image: doc(plain(/^[a-z0-9][a-z0-9._/:@-]*$/, 'a Docker image reference'), {
    description: 'Use this backup image instead of building the bundled one on the host. Default: build.',
    example: 'registry.example.org/tracker-backup:1.0',
  }).optional(),
  offsite: offsiteSchema.optional().meta({ description: 'An off-site copy of each successful backup in a restic repository (encrypted, deduplicated). Absent: none. See docs/offsite.md.' }),
});

const NAME = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;
const NAME_TEXT = 'lowercase letters, digits and dashes, starting with a letter';
/** A DNS label's limit: names become host names, group names and directory names. */
const NAME_MAX = 63;
const USER = /^[a-z_][a-z0-9_-]*$/;
const ABSOLUTE = /^\/(?!.*(^|\/)\.\.(\/|$))[A-Za-z0-9._/+-]*$/;

const hostAddress = doc(plain(/^[A-Za-z0-9][A-Za-z0-9.:-]*$/, 'a host name or IP address'), {
  description: 'Address Ansible connects to.',
  example: '203.0.113.10',
});

export const envSchema = z.strictObject({
  $schema: z.string().optional().meta({ description: 'Path to the JSON Schema, for editors.' }),
  environment: z.strictObject({
    name: doc(plain(NAME, NAME_TEXT, NAME_MAX), {
      description: `Environment name (at most ${NAME_MAX} characters); names the build directory and the Ansible host.`,
      example: 'my-deployment',
    }),
    instance_name: z.string().nullable().optional().meta({ description: 'Deployer field (VM name); accepted, not used.' }),
    description: z.string().optional().meta({ description: 'Free text; not used.' }),
  }),
  ssh_credentials: z.strictObject({
    private_key_path: doc(plain(/^[^\s]+$/, 'a path without spaces'), {
      description: 'SSH private key used by Ansible. "~/" is expanded; relative paths are relative to the current directory.',
      example: '~/.ssh/id_ed25519',
    }),
    public_key_path: z.string().optional().meta({ description: 'Deployer field; accepted, not used (the key must already be authorized on the host).' }),
    username: doc(plain(USER, 'a Unix user name'), {
      description: 'SSH user on the target; must be able to sudo. Default "torrust".',
      example: 'torrust',
    }).default('torrust'),
    port: port('SSH port. Default 22.', 22).default(22),
  }),
  instance: z
    .strictObject({ host: hostAddress })
    .optional()
    .meta({ description: 'The one host of this environment. Give either instance or instances.' }),
  instances: doc(
    z
      .array(
        z.strictObject({
          name: doc(plain(NAME, NAME_TEXT, NAME_MAX), {
            description: `Instance name (at most ${NAME_MAX} characters); the Ansible host is "<environment.name>-<name>".`,
            example: 'tracker-eu',
          }),
          host: hostAddress,
          port: port('SSH port of this host. Default ssh_credentials.port.', 22).optional(),
          username: doc(plain(USER, 'a Unix user name'), { description: 'SSH user on this host. Default ssh_credentials.username.', example: 'torrust' }).optional(),
          private_key_path: doc(plain(/^[^\s]+$/, 'a path without spaces'), {
            description: 'SSH key for this host. Default ssh_credentials.private_key_path.',
            example: '~/.ssh/id_ed25519',
          }).optional(),
          deploy_dir: deployDir('Deploy directory on this host. Default: the environment\'s deploy_dir.').optional(),
        }),
      )
      .min(1, { error: 'must list at least one instance' }),
    {
      description: 'Several hosts sharing this environment\'s settings, provisioned in parallel. Give either instance or instances.',
      example: [{ name: 'tracker-eu', host: '203.0.113.10' }],
    },
  ).optional(),
  deploy_dir: deployDir('The tracker\'s compose project directory on the host. Default /opt/torrust.').default('/opt/torrust'),
  ansible: z
    .strictObject({
      host_key_checking: doc(z.boolean().default(true), {
        description: 'Check the target\'s SSH host key against known_hosts. Default true; the local sandbox sets false.',
        example: true,
      }),
    })
    .optional(),
  tracker: z.looseObject({
    core: z.looseObject({ database }),
  }),
  backup: backupSchema.nullish().meta({ description: 'Present means backups are on (unless enabled is false); absent or null means off. "backup": {} (the deployer\'s minimal section) takes every default.' }),
  // The deployer's other sections: accepted so its files validate as they are, not read.
  provider: z.unknown().optional(),
  prometheus: z.unknown().optional(),
  grafana: z.unknown().optional(),
  https: z.unknown().optional(),
});

/** A secret as written: its text (or an ansible-vault string), or where to read it. */
export type SecretRef = { file: string } | { env: string };
/** `T` with every {"file"} and {"env"} secret replaced by its text, as the loader returns it. */
type Resolved<T> = T extends SecretRef ? string : T extends readonly (infer U)[] ? Resolved<U>[] : T extends object ? { [K in keyof T]: Resolved<T[K]> } : T;

/** The file as the schema reads it, before the loader resolves its secrets. */
export type ParsedEnv = z.infer<typeof envSchema>;
export type EnvFile = Resolved<ParsedEnv>;
export type BackupSection = z.infer<typeof backupSchema>;
