// Short, human summaries of an environment and of a provision run. Pure text builders.
import { checkCron, nextRuns } from '../env/cron.js';
import { hostsOf } from '../env/hosts.js';
import { scheduleWarnings } from '../env/rules.js';
import type { EnvFile } from '../env/schema.js';
import { totals, type PlayStats, type RunOutcome } from '../ansible/stats.js';
import { roleVars } from '../render/vars.js';

function utc(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function nextBackups(env: EnvFile, now: Date, count: number): Date[] {
  if (!env.backup?.enabled) return [];
  const cron = checkCron(env.backup.schedule);
  if (!cron.ok || cron.never) return [];
  return nextRuns(cron.normalized, now, count);
}

export function describeEnv(file: string, env: EnvFile, now: Date): string {
  const { vars } = roleVars(env);
  const db = env.tracker.core.database;
  const lines = [`${file} is valid.`];
  const row = (label: string, value: string) => lines.push(`  ${`${label}:`.padEnd(12)} ${value}`);
  const hosts = hostsOf(env);
  row('environment', `${env.environment.name} (${hosts.length} host${hosts.length === 1 ? '' : 's'}, ${env.deploy_dir})`);
  for (const host of hosts) row('host', `${host.name}: ${host.user}@${host.address}:${host.port}${host.deployDir ? `, ${host.deployDir}` : ''}`);
  row('database', db.driver === 'sqlite3' ? `sqlite3 (${String(vars.tracker_backup_sqlite_path)})` : `mysql (${db.username}@${db.host}:${db.port}/${db.database_name})`);
  if (!env.backup?.enabled) {
    row('backups', env.backup ? 'disabled: provision removes the cron entry' : 'off: no backup section');
  } else {
    row('schedule', `${String(vars.tracker_backup_schedule)} (host time; Torrust hosts run on UTC)`);
    const next = nextBackups(env, now, 3);
    row('next runs', next.length > 0 ? next.map(utc).join(', ') : 'never');
    row('retention', `${env.backup.retention_days} day${env.backup.retention_days === 1 ? '' : 's'}`);
  }
  for (const warning of scheduleWarnings(env)) lines.push(`warning: ${warning}`);
  return `${lines.join('\n')}\n`;
}

export function describeRun(stats: PlayStats | undefined, outcome: RunOutcome, envs: readonly EnvFile[], now: Date, check: boolean): string {
  if (!stats) return 'Summary: Ansible stopped before its recap; see the output above.\n';
  const lines = [check ? 'Summary (dry run, nothing was changed):' : 'Summary:'];
  for (const host of outcome.hosts) {
    const s = host.recap;
    if (!s) {
      lines.push(`  ${host.name}: ${host.state === 'excluded' ? 'not run' : 'FAILED'}  (${host.reason ?? ''})`);
      continue;
    }
    lines.push(`  ${host.name}: ${host.state === 'ok' ? 'ok' : 'FAILED'}  ok=${s.ok} changed=${s.changed} failed=${s.failures} unreachable=${s.unreachable} skipped=${s.skipped}`);
    for (const file of stats.created[host.name] ?? []) lines.push(`    backup created: ${file}`);
  }
  const sum = totals(stats);
  const bad = outcome.failed;
  const run = outcome.hosts.filter((h) => h.state !== 'excluded').length;
  lines.push(`  hosts: ${run}, changed: ${sum.changed}, failed: ${bad.length}${bad.length > 0 ? ` (${bad.join(', ')})` : ''}`);
  for (const env of envs) {
    const label = envs.length > 1 ? `next scheduled backup (${env.environment.name})` : 'next scheduled backup';
    lines.push(`  ${label}: ${nextBackupText(env, now)}`);
  }
  return `${lines.join('\n')}\n`;
}

function nextBackupText(env: EnvFile, now: Date): string {
  const next = nextBackups(env, now, 1)[0];
  return next ? utc(next) : env.backup?.enabled ? 'never (schedule never matches)' : 'none (backups disabled)';
}

/** validate --json's entry for a valid file: what the text output says, as data. */
export function envJson(file: string, env: EnvFile, now: Date): Record<string, unknown> {
  const { vars } = roleVars(env);
  const db = env.tracker.core.database;
  const enabled = env.backup?.enabled ?? false;
  return {
    file,
    ok: true,
    environment: env.environment.name,
    deployDir: env.deploy_dir,
    hosts: hostsOf(env).map((h) => ({ name: h.name, address: h.address, port: h.port, user: h.user, ...(h.deployDir ? { deployDir: h.deployDir } : {}) })),
    database: db.driver === 'sqlite3' ? { driver: db.driver, path: String(vars.tracker_backup_sqlite_path) } : { driver: db.driver, host: db.host, port: db.port, database: db.database_name, username: db.username },
    backups: enabled
      ? { enabled, schedule: String(vars.tracker_backup_schedule), nextRuns: nextBackups(env, now, 3).map((d) => d.toISOString()), retentionDays: env.backup?.retention_days }
      : { enabled },
    warnings: scheduleWarnings(env),
  };
}
