// The hosts an environment names, with every SSH setting resolved: what the inventory,
// the summaries and the fleet checks work from. Pure.
import type { EnvFile } from './schema.js';

export interface Host {
  /** Ansible inventory name: the environment's name, or "<env>-<instance>" for instances. */
  name: string;
  address: string;
  port: number;
  user: string;
  privateKey: string;
  /** Set only when an instance overrides the environment's deploy_dir. */
  deployDir?: string;
}

/**
 * Why two deployments may not share a host: the guide's cron file is one per host, so
 * the second provision would replace the first one's schedule.
 */
export const ONE_PER_HOST = 'one deployment per host is supported (the guide\'s cron file /etc/cron.d/tracker-backup holds one schedule per host)';

/** Two entries with the same key reach the same SSH server: the same host. */
export function hostKey(address: string, port: number): string {
  return `${address.toLowerCase()}:${port}`;
}

export function hostsOf(env: EnvFile): Host[] {
  const ssh = env.ssh_credentials;
  if (env.instances) {
    return env.instances.map((instance) => ({
      name: `${env.environment.name}-${instance.name}`,
      address: instance.host,
      port: instance.port ?? ssh.port,
      user: instance.username ?? ssh.username,
      privateKey: instance.private_key_path ?? ssh.private_key_path,
      ...(instance.deploy_dir !== undefined ? { deployDir: instance.deploy_dir } : {}),
    }));
  }
  // The rules refuse a file with neither, so a missing instance is a programming error.
  if (!env.instance) throw new Error(`environment ${env.environment.name} has no instance`);
  return [{ name: env.environment.name, address: env.instance.host, port: ssh.port, user: ssh.username, privateKey: ssh.private_key_path }];
}

/** Refuses a set of environments that would collide in one inventory. */
export function fleetIssues(envs: readonly EnvFile[]): string[] {
  const issues: string[] = [];
  const envNames = new Set<string>();
  const hostNames = new Set<string>();
  const addresses = new Map<string, string>();
  for (const env of envs) {
    if (envNames.has(env.environment.name)) issues.push(`environment name "${env.environment.name}" is given twice`);
    envNames.add(env.environment.name);
    for (const host of hostsOf(env)) {
      if (hostNames.has(host.name)) issues.push(`Ansible host "${host.name}" would be defined twice`);
      hostNames.add(host.name);
      const earlier = addresses.get(hostKey(host.address, host.port));
      if (earlier !== undefined && earlier !== host.name) {
        issues.push(`Ansible hosts "${earlier}" and "${host.name}" are both ${host.address} port ${host.port}; ${ONE_PER_HOST}`);
      } else addresses.set(hostKey(host.address, host.port), host.name);
    }
  }
  return issues;
}
