// The play recap written by the tracker_backup_stats callback, read as data.
export interface HostStats {
  ok: number;
  changed: number;
  failures: number;
  unreachable: number;
  skipped: number;
  rescued: number;
  ignored: number;
}

export interface PlayStats {
  hosts: Record<string, HostStats>;
  /** Per host: the files the run phase created (set_stats). */
  created: Record<string, string[]>;
  /** Per host: everything the role reported with set_stats. */
  custom: Record<string, Record<string, unknown>>;
  /**
   * The hosts the plays were meant for, after --limit; undefined when the callback could
   * not tell (then the hosts the environments name are meant).
   */
  targets?: string[];
}

export function parseStats(text: string): PlayStats {
  const raw = JSON.parse(text) as { hosts?: Record<string, Partial<HostStats>>; custom?: Record<string, Record<string, unknown>>; targets?: unknown };
  const hosts: Record<string, HostStats> = {};
  for (const [host, s] of Object.entries(raw.hosts ?? {})) {
    hosts[host] = {
      ok: s.ok ?? 0,
      changed: s.changed ?? 0,
      failures: s.failures ?? 0,
      unreachable: s.unreachable ?? 0,
      skipped: s.skipped ?? 0,
      rescued: s.rescued ?? 0,
      ignored: s.ignored ?? 0,
    };
  }
  const created: Record<string, string[]> = {};
  const custom: Record<string, Record<string, unknown>> = {};
  for (const [host, data] of Object.entries(raw.custom ?? {})) {
    if (host === '_run') continue;
    custom[host] = data;
    const files = data.tracker_backup_created;
    if (Array.isArray(files)) created[host] = files.map(String);
  }
  const targets = Array.isArray(raw.targets) ? raw.targets.map(String) : undefined;
  return { hosts, created, custom, ...(targets ? { targets } : {}) };
}

export function totals(stats: PlayStats): HostStats {
  const sum: HostStats = { ok: 0, changed: 0, failures: 0, unreachable: 0, skipped: 0, rescued: 0, ignored: 0 };
  for (const s of Object.values(stats.hosts)) {
    for (const key of Object.keys(sum) as (keyof HostStats)[]) sum[key] += s[key];
  }
  return sum;
}

/**
 * What became of one host: `ok`; `failed` (a task failed and was not rescued or
 * ignored, the host was unreachable, or the play was meant for it and it is missing
 * from the recap, so Ansible never got to it); `excluded` (named by an environment but
 * left out of the play, by --limit).
 */
export type HostState = 'ok' | 'failed' | 'excluded';

export interface HostOutcome {
  name: string;
  state: HostState;
  /** Why a host failed or was left out, in words. */
  reason?: string;
  /** Its line in Ansible's recap, when it has one. */
  recap?: HostStats;
}

export interface RunOutcome {
  hosts: HostOutcome[];
  /** Names of the failed hosts, in order. */
  failed: string[];
  /** Ansible exited 0, wrote its recap, and no host failed. */
  ok: boolean;
}

function judgeHost(name: string, recap: HostStats | undefined, meant: boolean, haveRecap: boolean): HostOutcome {
  if (!meant) return { name, state: 'excluded', reason: 'left out by --limit' };
  if (!recap) return { name, state: 'failed', reason: haveRecap ? "not in Ansible's recap" : 'Ansible stopped before its recap' };
  // Rescued and ignored failures are not counted in `failures` by Ansible: the host went on.
  if (recap.unreachable > 0) return { name, state: 'failed', reason: 'unreachable', recap };
  if (recap.failures > 0) return { name, state: 'failed', reason: 'a task failed', recap };
  return { name, state: 'ok', recap };
}

/**
 * The one rule for "a host failed", used by every command. `named`: the hosts the
 * environments name, in their order. Hosts the play was meant for come from the
 * callback (after --limit), else from `named`; hosts in the recap that nobody named are
 * judged too.
 */
export function judgeRun(stats: PlayStats | undefined, named: readonly string[], exitCode: number): RunOutcome {
  const meant = new Set(stats?.targets ?? named);
  const names = [...new Set([...named, ...(stats?.targets ?? []), ...Object.keys(stats?.hosts ?? {})])];
  const hosts = names.map((name) => judgeHost(name, stats?.hosts[name], meant.has(name) || stats?.hosts[name] !== undefined, stats !== undefined));
  const failed = hosts.filter((h) => h.state === 'failed').map((h) => h.name);
  return { hosts, failed, ok: stats !== undefined && exitCode === 0 && failed.length === 0 };
}
