// Day-to-day operations on provisioned hosts: back up now, list, restore. Each renders
// the project (so the playbooks are the ones a plain ansible-playbook run would use),
// runs one playbook and reports what the role handed back through set_stats.
import path from 'node:path';
import { formatListing, hostBackups, humanBytes, type HostBackups } from '../ansible/listing.js';
import type { PlayStats } from '../ansible/stats.js';
import { ANSIBLE_ARGS_HELP, JSON_HELP } from './commands.js';
import { EXIT, UsageError, type Context } from './context.js';
import { ansibleCommandArgs, hostsJson, runAnsible, type Finished } from './pipeline.js';

const HELP: Record<'backup' | 'backups' | 'restore', string> = {
  backup: `Usage: npm run backup -- --env <name|path> [--env ...] [--json] [--out DIR] [-- ANSIBLE-FLAGS]

Takes a backup now on the environment's host(s) through the same maintenance script,
lock and log as cron (ansible-playbook backup.yml), then prints its log lines and the
files it created (sizes in KiB, MiB, GiB).
${JSON_HELP}
${ANSIBLE_ARGS_HELP}
Exit codes: 0 backup taken, 1 invalid environment or the backup failed, 2 usage error.
`,
  backups: `Usage: npm run backups -- --env <name|path> [--env ...] [--json] [--out DIR] [-- ANSIBLE-FLAGS]

Lists the backups on each host per kind (sqlite, mysql, config): timestamp, age, size,
whether the file still matches its manifest's SHA-256, and the last run's status
(ansible-playbook backups.yml); for a host with backup.offsite also its snapshots in
the off-site repository. Sizes are in KiB, MiB, GiB; --json gives exact bytes.
${JSON_HELP}
${ANSIBLE_ARGS_HELP}
Exit codes: 0 listed, 1 invalid environment or a host could not be read, 2 usage error.
`,
  restore: `Usage: npm run restore -- --env <name|path> [--env ...] [--from local|offsite] [--at YYYYMMDD_HHMMSS|latest] [--only database|config] [--yes] [--from-dir DIR] [--json] [--out DIR] [-- ANSIBLE-FLAGS]

Without --yes: prints what would be restored, from which files, and what it would
replace; changes nothing. With --yes: verifies the backup's checksums (a corrupt backup
is refused before anything is touched), stops the tracker, takes a safety backup,
restores, and starts the tracker again; if a step fails, the safety backup is put back.
--from-dir uploads backup files (sqlite/ mysql/ config/ manifests/, as on a host) from
this machine first. --from offsite restores a snapshot from the host's off-site
repository (backup.offsite): the newest of the host, or --at's; fetched and checked
first, then restored like a local backup (disaster recovery: provision, then
restore --from offsite --yes).
Runs ansible-playbook restore.yml.
${JSON_HELP}
${ANSIBLE_ARGS_HELP}
Exit codes: 0 restored (or plan shown), 1 invalid environment, refused or failed, 2 usage error.
`,
};

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
    for (const line of outputLines(data)) lines.push(`  ${line}`);
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

/** The files a backup run created, from its status.json (sizes in bytes). */
function createdFiles(status: Record<string, unknown> | null): { path: string; bytes: number }[] {
  return Array.isArray(status?.files) ? (status.files as { path: string; bytes: number }[]) : [];
}

function reported(run: Finished, host: string): Record<string, unknown> {
  return run.stats?.custom[host] ?? {};
}

function outputLines(data: Record<string, unknown>): string[] {
  return Array.isArray(data.tracker_backup_output) ? data.tracker_backup_output.map(String) : [];
}

function hostExitCode(data: Record<string, unknown>): number | null {
  const code = Number(data.tracker_backup_exit_code);
  return data.tracker_backup_exit_code === undefined || Number.isNaN(code) ? null : code;
}

export async function backupCommand(argv: string[], ctx: Context): Promise<number> {
  const args = ansibleCommandArgs('backup', argv, ctx, HELP.backup, {});
  if (!args) return EXIT.ok;
  return runAnsible(ctx, {
    command: 'backup',
    phase: 'backup',
    flags: args.flags,
    ansibleArgs: args.ansible,
    text: (run) => {
      let text = hostOutput(run.stats);
      for (const [host, data] of Object.entries(run.stats?.custom ?? {})) {
        const status = statusOf(data.tracker_backup_status);
        if (!status) text += `${host}: no status recorded\n`;
        for (const file of createdFiles(status)) text += `${host}: created ${file.path} (${humanBytes(file.bytes)})\n`;
      }
      return text;
    },
    json: (run) => ({
      hosts: hostsJson(run.outcome, (host) => {
        const data = reported(run, host);
        const status = statusOf(data.tracker_backup_status);
        return { output: outputLines(data), exitCode: hostExitCode(data), status, files: createdFiles(status), reported: data };
      }),
    }),
  });
}

export async function backupsCommand(argv: string[], ctx: Context): Promise<number> {
  const args = ansibleCommandArgs('backups', argv, ctx, HELP.backups, {});
  if (!args) return EXIT.ok;
  // Each host's own answer (tracker-backup.list.v1), passed through.
  const listings = (run: Finished) => {
    const hosts: Record<string, HostBackups> = {};
    for (const [host, data] of Object.entries(run.stats?.custom ?? {})) hosts[host] = hostBackups(data.tracker_backup_listing);
    return hosts;
  };
  return runAnsible(ctx, {
    command: 'backups',
    phase: 'backups',
    flags: args.flags,
    ansibleArgs: args.ansible,
    text: (run) => Object.entries(listings(run)).map(([host, listing]) => formatListing(host, listing, ctx.now())).join(''),
    json: (run) => ({ hosts: listings(run) }),
  });
}

export async function restoreCommand(argv: string[], ctx: Context): Promise<number> {
  const args = ansibleCommandArgs('restore', argv, ctx, HELP.restore, {
    at: { type: 'string' },
    only: { type: 'string' },
    from: { type: 'string' },
    yes: { type: 'boolean' },
    'from-dir': { type: 'string' },
  } as const);
  if (!args) return EXIT.ok;
  const { flags } = args;
  const at = flags.at ?? 'latest';
  if (at !== 'latest' && !/^\d{8}_\d{6}$/.test(at)) throw new UsageError(`restore: --at takes YYYYMMDD_HHMMSS or latest (got "${at}")`);
  const only = flags.only ?? 'all';
  if (!['all', 'database', 'config'].includes(only)) throw new UsageError(`restore: --only takes database or config (got "${only}")`);
  const from = flags.from ?? 'local';
  if (from !== 'local' && from !== 'offsite') throw new UsageError(`restore: --from takes local or offsite (got "${from}")`);
  if (from === 'offsite' && flags['from-dir']) throw new UsageError('restore: --from offsite and --from-dir are two different sources; give one');
  const extraVars: Record<string, unknown> = {
    tracker_backup_restore_at: at,
    tracker_backup_restore_only: only,
    tracker_backup_restore_yes: flags.yes ?? false,
  };
  // Local is the role's default: a local restore's command stays as it was.
  if (from === 'offsite') extraVars.tracker_backup_restore_from = from;
  if (flags['from-dir']) extraVars.tracker_backup_restore_from_dir = path.resolve(ctx.cwd, flags['from-dir']);
  const dryRun = !(flags.yes ?? false);
  return runAnsible(ctx, {
    command: 'restore',
    phase: 'restore',
    flags,
    ansibleArgs: args.ansible,
    extraVars,
    text: (run) => `${hostOutput(run.stats)}${dryRun && run.outcome.ok ? 'Dry run: nothing was changed. Add --yes to restore.\n' : ''}`,
    json: (run) => ({
      dryRun,
      from,
      at,
      only,
      hosts: hostsJson(run.outcome, (host) => {
        const data = reported(run, host);
        return { output: outputLines(data), exitCode: hostExitCode(data), reported: data };
      }),
    }),
  });
}
