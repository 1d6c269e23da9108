// Which Ansible controller the e2e suite's CLI runs: this machine's ansible-playbook
// (2.14) by default, or with TRACKER_BACKUP_CONTROLLER=2.19 Debian 13's ansible-core
// in a container (scripts/controller.sh), by putting its ansible-playbook wrapper first
// in PATH. The OS of the sandbox targets is chosen the same way, by
// TRACKER_BACKUP_SANDBOX_OS (read by scripts/sandbox.sh itself).
import path from 'node:path';
import { ROOT } from '../helpers.js';

export const CONTROLLERS = ['host', '2.19'] as const;

/** Environment additions for a CLI run; empty for the machine's own controller. */
export function controllerEnv(choice = process.env.TRACKER_BACKUP_CONTROLLER ?? 'host'): Record<string, string> {
  if (choice === 'host' || choice === '') return {};
  if (choice !== '2.19') {
    throw new Error(`TRACKER_BACKUP_CONTROLLER=${choice}: use one of ${CONTROLLERS.join(', ')}`);
  }
  return { PATH: [path.join(ROOT, 'sandbox/controller/bin'), process.env.PATH ?? ''].join(path.delimiter) };
}
