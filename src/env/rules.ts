// Rules that look at more than one field, run only once the shape is right, and the
// warnings that do not stop a provision. Pure: the clock is a parameter.
import { checkCron, isLessThanWeekly } from './cron.js';
import type { EnvIssue } from './errors.js';
import type { EnvFile } from './schema.js';

export function crossFieldIssues(env: EnvFile): EnvIssue[] {
  const issues: EnvIssue[] = [];
  const driver = env.tracker.core.database.driver;
  if (env.backup?.sqlite_path !== undefined && driver !== 'sqlite3') {
    issues.push({
      path: 'backup.sqlite_path',
      message: `only applies when tracker.core.database.driver is "sqlite3" (it is "${driver}")`,
      example: 'remove the key',
    });
  }
  return issues;
}

export function scheduleWarnings(env: EnvFile, now: Date): string[] {
  const backup = env.backup;
  if (!backup || !backup.enabled) return [];
  const check = checkCron(backup.schedule);
  if (!check.ok) return [];
  if (check.never) {
    return [`backup.schedule "${check.normalized}" never runs (no such date); only manual backups will be taken`];
  }
  if (isLessThanWeekly(check.normalized, now)) {
    return [`backup.schedule "${check.normalized}" runs less often than once a week; the guide recommends at least weekly`];
  }
  return [];
}
