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
  /**
   * Where Ansible's output (stdout and stderr) goes instead of the terminal: --json
   * sends it to the CLI's stderr, keeping stdout for the one JSON document.
   */
  output?: (text: string) => void;
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
      stdout: options.output ? 'pipe' : 'inherit',
      stderr: options.output ? 'pipe' : 'inherit',
      buffer: false,
      reject: false,
    });
    const { output } = options;
    if (output) {
      for (const stream of [child.stdout, child.stderr]) {
        stream?.setEncoding('utf8');
        stream?.on('data', (text: string) => output(text));
      }
    }
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
