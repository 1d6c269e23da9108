// The only place ansible-playbook is started. Output streams to the terminal as it
// comes; results are read afterwards from the stats file, not from that output.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { playbookCommand, type PlaybookOptions } from './command.js';
import { parseStats, type PlayStats } from './stats.js';

export interface PlaybookResult {
  exitCode: number;
  /** Undefined when Ansible stopped before its recap (bad syntax, missing program). */
  stats?: PlayStats;
  /** Why it could not run at all, when that is the case. */
  error?: string;
}

export interface RunOptions extends Omit<PlaybookOptions, 'statsFile'> {
  /** Send Ansible's output to stderr, keeping stdout for machine-readable output. */
  quiet?: boolean;
}

export async function runPlaybook(options: RunOptions): Promise<PlaybookResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tracker-backup-'));
  const statsFile = path.join(dir, 'stats.json');
  const command = playbookCommand({ ...options, statsFile });
  // Ctrl-C reaches ansible-playbook through the terminal's process group; we wait for
  // it to wind down and report its exit code instead of dying first.
  const ignoreSigint = (): void => undefined;
  process.on('SIGINT', ignoreSigint);
  try {
    const child = execa(command.program, command.args, {
      cwd: command.cwd,
      env: command.env,
      stdin: 'inherit',
      stdout: options.quiet ? 'pipe' : 'inherit',
      stderr: 'inherit',
      reject: false,
    });
    child.stdout?.pipe(process.stderr);
    const result = await child;
    let stats: PlayStats | undefined;
    try {
      stats = parseStats(await readFile(statsFile, 'utf8'));
    } catch {
      stats = undefined;
    }
    if (result.failed && result.exitCode === undefined) {
      const reason = result.code === 'ENOENT' ? 'ansible-playbook is not installed (apt-get install ansible)' : result.shortMessage;
      return { exitCode: 1, error: reason };
    }
    return { exitCode: result.exitCode ?? 1, stats };
  } finally {
    process.off('SIGINT', ignoreSigint);
    await rm(dir, { recursive: true, force: true });
  }
}
