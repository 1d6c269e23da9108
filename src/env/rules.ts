// Rules that look at more than one field, run only once the shape is right, and the
// warnings that do not stop a provision. Pure.
import { checkCron, isLessThanWeekly } from './cron.js';
import type { EnvIssue } from './errors.js';
import { hostKey, ONE_PER_HOST } from './hosts.js';
import type { EnvFile } from './schema.js';

export function crossFieldIssues(env: EnvFile): EnvIssue[] {
  const issues: EnvIssue[] = [];
  if (env.instance === undefined && env.instances === undefined) {
    issues.push({ path: 'instance', message: 'is required (or instances, for several hosts)', example: '{"host": "203.0.113.10"}' });
  }
  if (env.instance !== undefined && env.instances !== undefined) {
    issues.push({ path: 'instances', message: 'cannot be given together with instance; keep one of them', example: 'remove the key' });
  }
  const seen = new Set<string>();
  const hosts = new Map<string, number>();
  env.instances?.forEach((instance, index) => {
    if (seen.has(instance.name)) {
      issues.push({ path: `instances[${index}].name`, message: `"${instance.name}" is used by an earlier instance; names must be unique`, example: `${instance.name}-2` });
    }
    seen.add(instance.name);
    const port = instance.port ?? env.ssh_credentials.port;
    const earlier = hosts.get(hostKey(instance.host, port));
    if (earlier !== undefined) {
      issues.push({
        path: `instances[${index}].host`,
        message: `${instance.host} port ${port} is already instances[${earlier}]; ${ONE_PER_HOST}`,
        example: 'one instance per host',
      });
    } else hosts.set(hostKey(instance.host, port), index);
  });
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

export function scheduleWarnings(env: EnvFile): string[] {
  const backup = env.backup;
  if (!backup || !backup.enabled) return [];
  const check = checkCron(backup.schedule);
  if (!check.ok) return [];
  if (check.never) {
    return [`backup.schedule "${check.normalized}" never runs (no such date); only manual backups will be taken`];
  }
  if (isLessThanWeekly(check.normalized)) {
    return [`backup.schedule "${check.normalized}" runs less often than once a week; the guide recommends at least weekly`];
  }
  return [];
}
