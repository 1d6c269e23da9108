// Day-to-day operations on provisioned hosts: back up now, list, restore. Each renders
// the project (so the playbooks are the ones a plain ansible-playbook run would use),
// runs one playbook and reports what the role handed back through set_stats.
import path from 'node:path';
import { formatCommand, playbookCommand, type Phase } from '../ansible/command.js';
import { formatListing, hostBackups, humanBytes, type HostBackups } from '../ansible/listing.js';
import { runPlaybook } from '../ansible/run.js';
import type { PlayStats } from '../ansible/stats.js';
import { ENV_FLAG, parseFlags, splitAnsibleArgs } from './args.js';
import { ANSIBLE_ARGS_HELP, displayPath, load, renderTo } from './commands.js';
import { EXIT, UsageError, type Context } from './context.js';

const HELP: Record<'backup' | 'backups' | 'restore', string> = {
  backup: `Usage: npm run backup -- --env <name|path> [--env ...] [--out DIR] [-- ANSIBLE-FLAGS]

Takes a backup now on the environment's host(s) through the same maintenance script,
lock and log as cron (ansible-playbook backup.yml), then prints its log lines and the
files it created (sizes in KiB, MiB, GiB).
${ANSIBLE_ARGS_HELP}
Exit codes: 0 backup taken, 1 invalid environment or the backup failed, 2 usage error.
`,
  backups: `Usage: npm run backups -- --env <name|path> [--env ...] [--json] [--out DIR] [-- ANSIBLE-FLAGS]

Lists the backups on each host per kind (sqlite, mysql, config): timestamp, age, size,
whether the file still matches its manifest's SHA-256, and the last run's status
(ansible-playbook backups.yml). --json prints the same as JSON on stdout; Ansible's own
output then goes to stderr. Sizes are in KiB, MiB, GiB; --json gives exact bytes.
${ANSIBLE_ARGS_HELP}
Exit codes: 0 listed, 1 invalid environment or a host could not be read, 2 usage error.
`,
  restore: `Usage: npm run restore -- --env <name|path> [--env ...] [--at YYYYMMDD_HHMMSS|latest] [--only database|config] [--yes] [--from-dir DIR] [--out DIR] [-- ANSIBLE-FLAGS]

Without --yes: prints what would be restored, from which files, and what it would
replace; changes nothing. With --yes: verifies the backup's checksums (a corrupt backup
is refused before anything is touched), stops the tracker, takes a safety backup,
restores, and starts the tracker again; if a step fails, the safety backup is put back.
--from-dir uploads backup files (sqlite/ mysql/ config/ manifests/, as on a host) from
this machine first: disaster recovery onto a freshly provisioned host.
Runs ansible-playbook restore.yml.
${ANSIBLE_ARGS_HELP}
Exit codes: 0 restored (or plan shown), 1 invalid environment, refused or failed, 2 usage error.
`,
};

interface Operation {
  command: string;
  phase: Phase;
  flags: Record<string, unknown>;
  ansibleArgs: readonly string[];
  extraVars: Record<string, unknown>;
  quiet?: boolean;
}

async function operate(ctx: Context, op: Operation) {
  const { command, phase, extraVars, ansibleArgs, quiet = false } = op;
  const loaded = await load(command, ctx, op.flags.env);
  const out = op.flags.out;
  const projectDir = await renderTo(ctx, loaded, out);
  const color = !ctx.env.NO_COLOR && process.stdout.isTTY === true && !quiet;
  const shown = playbookCommand({ projectDir: displayPath(ctx, projectDir), phase, check: false, color, statsFile: '', extraVars, ansibleArgs });
  (quiet ? ctx.stderr : ctx.stdout)(`Running: ${formatCommand(shown)}\n`);
  return runPlaybook({ projectDir, phase, check: false, color, extraVars, ansibleArgs, quiet });
}

/** Ansible turns a templated string that looks like JSON into a dict, so accept both. */
function statusOf(value: unknown): Record<string, unknown> | null {
  if (value && typeof value === 'object') return value as Record<string, unknown>;
  try {
    return typeof value === 'string' && value.trim() ? (JSON.parse(value) as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function hostOutput(stats: PlayStats | undefined): string {
  const lines: string[] = [];
  for (const [host, data] of Object.entries(stats?.custom ?? {})) {
    lines.push(`${host}:`);
    for (const line of (data.tracker_backup_output as string[] | undefined) ?? []) lines.push(`  ${line}`);
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

function failed(stats: PlayStats | undefined, exitCode: number): boolean {
  return exitCode !== 0 || !stats || Object.values(stats.hosts).some((h) => h.failures > 0 || h.unreachable > 0);
}

export async function backupCommand(argv: string[], ctx: Context): Promise<number> {
  const { own, ansible } = splitAnsibleArgs('backup', argv);
  const options = { env: ENV_FLAG, out: { type: 'string' } } as const;
  const flags = parseFlags('backup', own, options);
  if (flags.help) {
    ctx.stdout(HELP.backup);
    return EXIT.ok;
  }
  const result = await operate(ctx, { command: 'backup', phase: 'backup', flags, ansibleArgs: ansible, extraVars: {} });
  if (result.error) {
    ctx.stderr(`backup: ${result.error}\n`);
    return EXIT.failed;
  }
  ctx.stdout(hostOutput(result.stats));
  for (const [host, data] of Object.entries(result.stats?.custom ?? {})) {
    const status = statusOf(data.tracker_backup_status);
    if (!status) ctx.stdout(`${host}: no status recorded\n`);
    for (const file of (status?.files ?? []) as { path: string; bytes: number }[]) ctx.stdout(`${host}: created ${file.path} (${humanBytes(file.bytes)})\n`);
  }
  return failed(result.stats, result.exitCode) ? EXIT.failed : EXIT.ok;
}

export async function backupsCommand(argv: string[], ctx: Context): Promise<number> {
  const { own, ansible } = splitAnsibleArgs('backups', argv);
  const options = { env: ENV_FLAG, out: { type: 'string' }, json: { type: 'boolean' } } as const;
  const flags = parseFlags('backups', own, options);
  if (flags.help) {
    ctx.stdout(HELP.backups);
    return EXIT.ok;
  }
  const result = await operate(ctx, { command: 'backups', phase: 'backups', flags, ansibleArgs: ansible, extraVars: {}, quiet: flags.json ?? false });
  if (result.error) {
    ctx.stderr(`backups: ${result.error}\n`);
    return EXIT.failed;
  }
  // Each host's own answer (tracker-backup.list.v1), passed through.
  const hosts: Record<string, HostBackups> = {};
  for (const [host, data] of Object.entries(result.stats?.custom ?? {})) hosts[host] = hostBackups(data.tracker_backup_listing);
  if (flags.json) ctx.stdout(`${JSON.stringify({ hosts }, null, 2)}\n`);
  else for (const [host, listing] of Object.entries(hosts)) ctx.stdout(formatListing(host, listing, ctx.now()));
  return failed(result.stats, result.exitCode) ? EXIT.failed : EXIT.ok;
}

export async function restoreCommand(argv: string[], ctx: Context): Promise<number> {
  const { own, ansible } = splitAnsibleArgs('restore', argv);
  const options = {
    env: ENV_FLAG,
    out: { type: 'string' },
    at: { type: 'string' },
    only: { type: 'string' },
    yes: { type: 'boolean' },
    'from-dir': { type: 'string' },
  } as const;
  const flags = parseFlags('restore', own, options);
  if (flags.help) {
    ctx.stdout(HELP.restore);
    return EXIT.ok;
  }
  const at = flags.at ?? 'latest';
  if (at !== 'latest' && !/^\d{8}_\d{6}$/.test(at)) throw new UsageError(`restore: --at takes YYYYMMDD_HHMMSS or latest (got "${at}")`);
  const only = flags.only ?? 'all';
  if (!['all', 'database', 'config'].includes(only)) throw new UsageError(`restore: --only takes database or config (got "${only}")`);
  const extraVars: Record<string, unknown> = {
    tracker_backup_restore_at: at,
    tracker_backup_restore_only: only,
    tracker_backup_restore_yes: flags.yes ?? false,
  };
  if (flags['from-dir']) extraVars.tracker_backup_restore_from_dir = path.resolve(ctx.cwd, flags['from-dir']);
  const result = await operate(ctx, { command: 'restore', phase: 'restore', flags, ansibleArgs: ansible, extraVars });
  if (result.error) {
    ctx.stderr(`restore: ${result.error}\n`);
    return EXIT.failed;
  }
  ctx.stdout(hostOutput(result.stats));
  const bad = failed(result.stats, result.exitCode);
  if (!flags.yes && !bad) ctx.stdout('Dry run: nothing was changed. Add --yes to restore.\n');
  return bad ? EXIT.failed : EXIT.ok;
}
