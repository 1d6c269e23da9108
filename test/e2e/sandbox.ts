// Helpers for end-to-end tests: a real sandbox target (scripts/sandbox.sh: sshd in a
// container on 127.0.0.1, cron, the host's Docker daemon, a stand-in tracker stack),
// the real CLI as a child process, and commands on the target over real SSH.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { HostBackups } from '../../src/ansible/listing.js';
import { ROOT, type EnvInput } from '../helpers.js';
import { controllerEnv } from './controller.js';

/** The env file sandbox.sh writes: one instance, a deploy_dir and a backup section, always. */
export type SandboxEnv = EnvInput & { instance: NonNullable<EnvInput['instance']>; deploy_dir: string; backup: NonNullable<EnvInput['backup']> };

type Database = EnvInput['tracker']['core']['database'];

/** A MySQL connection whose password is written as text, as sandbox.sh writes it. */
type MysqlInput = Extract<Database, { driver: 'mysql' }> & { password: string };

/** The MySQL connection of a MySQL sandbox's env file (the object itself, so it can be changed). */
export function mysqlOf(env: EnvInput): MysqlInput {
  const database = env.tracker.core.database;
  if (database.driver !== 'mysql') throw new Error(`not a MySQL sandbox: the database driver is ${database.driver}`);
  if (typeof database.password !== 'string') throw new Error('the sandbox env file gives the MySQL password by reference, not as text');
  return database as MysqlInput;
}

export interface Sandbox {
  name: string;
  envFile: string;
  env: SandboxEnv;
  /** Scratch directory for rendered projects and env variants. */
  work: string;
  deployDir: string;
}

export async function sandboxUp(prefix: string, options: string[] = []): Promise<Sandbox> {
  const name = `${prefix}-${process.pid}`;
  const work = mkdtempSync(path.join(tmpdir(), `tb-${prefix}-`));
  const result = await execa(path.join(ROOT, 'scripts/sandbox.sh'), ['up', name, ...options], {
    env: { TRACKER_BACKUP_ENV_DIR: work },
    stderr: 'inherit',
  });
  const envFile = result.stdout.trim().split('\n').pop() as string;
  const env = JSON.parse(readFileSync(envFile, 'utf8')) as SandboxEnv;
  return { name, envFile, env, work, deployDir: env.deploy_dir };
}

export async function sandboxDown(sandbox: Sandbox | undefined): Promise<void> {
  if (!sandbox) return;
  await execa(path.join(ROOT, 'scripts/sandbox.sh'), ['down', sandbox.name], { stdio: 'inherit', reject: false });
}

/** Writes a variant of the sandbox's env file and returns its path. */
export function envVariant(sandbox: Sandbox, label: string, change: (env: SandboxEnv) => void): string {
  const env = structuredClone(sandbox.env);
  change(env);
  const file = path.join(sandbox.work, `${label}.json`);
  writeFileSync(file, JSON.stringify(env, null, 2));
  return file;
}

export interface CliRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** The CLI as an operator runs it, in its own process; Ansible's output is kept for the assertions. */
export async function cli(args: string[], sandbox: Sandbox): Promise<CliRun> {
  // --out is the tool's own flag, so it goes before a literal -- (the rest is Ansible's).
  const split = args.includes('--') ? args.indexOf('--') : args.length;
  const argv = [...args.slice(0, split), '--out', path.join(sandbox.work, 'ansible'), ...args.slice(split)];
  const result = await execa('npx', ['tsx', 'src/cli/bin.ts', ...argv], {
    cwd: ROOT,
    reject: false,
    env: { NO_COLOR: '1', ...controllerEnv() },
    all: true,
  });
  // Shown in the test log, so a failure can be read without running it again.
  process.stdout.write(result.all ?? '');
  return { exitCode: result.exitCode ?? 1, stdout: result.stdout, stderr: result.stderr };
}

/** ssh's arguments up to the remote command: the same SSH access Ansible uses. */
function sshTo(sandbox: Sandbox, remoteCommand: string): string[] {
  const ssh = sandbox.env.ssh_credentials;
  return [
    '-i', ssh.private_key_path,
    '-p', String(ssh.port),
    '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'BatchMode=yes',
    '-o', 'LogLevel=ERROR',
    `${ssh.username}@${sandbox.env.instance.host}`,
    remoteCommand,
  ];
}

/** A command run as root on the target, over the same SSH access Ansible uses. */
export async function onTarget(sandbox: Sandbox, script: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const result = await execa('ssh', sshTo(sandbox, 'sudo bash -s'), {
    input: `set -euo pipefail\ncd ${sandbox.deployDir}\n${script}`,
    reject: false,
  });
  return { exitCode: result.exitCode ?? 1, stdout: result.stdout, stderr: result.stderr };
}

/** Polls `probe` every 2 s until it returns true or `seconds` pass; no timing is asserted. */
export async function waitFor(seconds: number, probe: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  return probe();
}

/** The maintenance script exactly as the cron entry runs it; resolves to its exit code. */
export async function runMaintenance(sandbox: Sandbox): Promise<number> {
  const run = await onTarget(sandbox, 'rc=0; /usr/local/bin/maintenance-backup.sh >> /var/log/tracker-backup.log 2>&1 || rc=$?; echo "$rc"');
  return Number(run.stdout.trim().split('\n').pop());
}

/** The hosts `backups --json` prints, by inventory name. */
export function backupsJson(stdout: string): Record<string, HostBackups> {
  return (JSON.parse(stdout) as { hosts: Record<string, HostBackups> }).hosts;
}

/** storage/backup/status.json, as maintenance-backup.sh writes it. */
export interface BackupStatus {
  started: string;
  finished: string;
  stamp: string;
  mode: string;
  result: string;
  exit_code: number;
  tracker_downtime_seconds: number;
  files: { path: string; bytes: number; sha256: string }[];
}

/** storage/backup/status.json of the last run. */
export async function lastStatus(sandbox: Sandbox): Promise<BackupStatus> {
  return JSON.parse((await onTarget(sandbox, 'cat storage/backup/status.json')).stdout) as BackupStatus;
}

export async function trackerRunning(sandbox: Sandbox): Promise<boolean> {
  const out = await onTarget(sandbox, 'for id in $(docker-compose ps -q tracker); do docker inspect -f "{{.State.Running}}" "$id"; done');
  return out.stdout.trim() === 'true';
}

/**
 * A command run over SSH as the deploy user itself, with no sudo: the way the guide runs its
 * checks (`ssh torrust@host "tail -20 /var/log/tracker-backup.log"`). The command is the
 * remote command line, run by the user's login shell.
 */
export async function asDeployUser(sandbox: Sandbox, command: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const result = await execa('ssh', sshTo(sandbox, command), { reject: false, stdin: 'ignore' });
  return { exitCode: result.exitCode ?? 1, stdout: result.stdout, stderr: result.stderr };
}
