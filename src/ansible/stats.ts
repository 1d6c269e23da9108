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
}

export function parseStats(text: string): PlayStats {
  const raw = JSON.parse(text) as { hosts?: Record<string, Partial<HostStats>>; custom?: Record<string, Record<string, unknown>> };
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
  return { hosts, created, custom };
}

export function totals(stats: PlayStats): HostStats {
  const sum: HostStats = { ok: 0, changed: 0, failures: 0, unreachable: 0, skipped: 0, rescued: 0, ignored: 0 };
  for (const s of Object.values(stats.hosts)) {
    for (const key of Object.keys(sum) as (keyof HostStats)[]) sum[key] += s[key];
  }
  return sum;
}
