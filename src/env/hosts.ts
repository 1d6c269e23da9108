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
