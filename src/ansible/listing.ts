// What `tracker-backup list --json` answered on each host (tracker-backup.list.v1, see
// docs/host-program.md), formatted for people. The host names, dates and checks every
// backup; this module only shows it. Pure: the clock is a parameter.
/** sqlite, mysql or config today: the host's layout (files/lib/layout.sh) names the kinds. */
export type Kind = string;
/** The host's checksum verdict: against the run's manifest, or none for a file no manifest lists. */
export type Verdict = 'verified' | 'mismatch' | 'missing' | 'legacy';

export interface HostBackup {
  kind: Kind;
  path: string;
  stamp: string;
  taken_at: string;
  bytes: number | null;
  sha256: string | null;
  expected_sha256: string | null;
  checksum: Verdict;
}

/** A snapshot in the off-site repository (restic), as `tracker-backup list --offsite` reads it. */
export interface OffsiteSnapshot {
  id: string;
  short_id: string;
  stamp: string | null;
  time: string | null;
  kinds: Kind[];
  paths: string[];
  bytes: number | null;
}

export interface HostBackups {
  schema: typeof LIST_SCHEMA;
  store: string;
  backups: HostBackup[];
  last_run: Record<string, unknown> | null;
  /** Only for a host with backup.offsite. */
  offsite?: { host: string; result: 'success' | 'failed'; message: string | null; snapshots: OffsiteSnapshot[] };
}

export const LIST_SCHEMA = 'tracker-backup.list.v1';

/**
 * The list task's answer (set_stats `tracker_backup_listing`) as the host sent it. A host
 * whose task failed sent nothing: no backups, no last run.
 */
export function hostBackups(value: unknown): HostBackups {
  if (value === undefined || value === null || value === '') return { schema: LIST_SCHEMA, store: '', backups: [], last_run: null };
  const doc = value as Partial<HostBackups>;
  if (doc.schema !== LIST_SCHEMA || !Array.isArray(doc.backups)) {
    throw new Error(`the host answered with a listing this version cannot read (schema ${JSON.stringify(doc.schema)}, expected ${LIST_SCHEMA})`);
  }
  return doc as HostBackups;
}

const VERDICT: Record<Verdict, string> = { verified: 'verified', mismatch: 'MISMATCH', missing: 'MISSING', legacy: 'legacy (no manifest)' };

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/**
 * A size in binary units for people: exact multiples whole ("1 KiB"), others with one
 * decimal below 100 ("1.5 MiB", "2.0 GiB" for a little under 2 GiB). --json keeps bytes.
 */
export function humanBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1024) return `${bytes} B`;
  let unit = 0;
  while (unit < UNITS.length - 1 && bytes >= 1024 ** (unit + 1)) unit++;
  const value = bytes / 1024 ** unit;
  if (Number.isInteger(value)) return `${value} ${UNITS[unit]}`;
  const shown = value < 100 ? value.toFixed(1) : value.toFixed(0);
  // 1023.97 KiB rounds to 1024: that is 1.0 MiB.
  if (Number(shown) >= 1024 && unit < UNITS.length - 1) return `1.0 ${UNITS[unit + 1]}`;
  return `${shown} ${UNITS[unit]}`;
}

function age(seconds: number): string {
  if (seconds < 3600) return `${Math.max(0, Math.round(seconds / 60))}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}

export function formatListing(host: string, listing: HostBackups, now: Date): string {
  const lines = [`${host}:`];
  // In the host's order of kinds.
  for (const kind of new Set(listing.backups.map((b) => b.kind))) {
    const entries = listing.backups.filter((b) => b.kind === kind).sort((x, y) => x.stamp.localeCompare(y.stamp));
    if (entries.length === 0) continue;
    lines.push(`  ${kind}:`);
    for (const b of entries) {
      const ageSeconds = Math.round((now.getTime() - Date.parse(b.taken_at)) / 1000);
      lines.push(`    ${b.stamp}  ${age(ageSeconds).padStart(5)}  ${humanBytes(b.bytes ?? 0).padStart(10)}  ${VERDICT[b.checksum]}  ${b.path}`);
    }
  }
  if (listing.backups.length === 0) lines.push('  no backups');
  const run = listing.last_run;
  lines.push(run ? `  last run: ${String(run.result)} (exit code ${String(run.exit_code)}) at ${String(run.finished)}, tracker down ${String(run.tracker_downtime_seconds)}s` : '  last run: none recorded');
  const offsite = listing.offsite;
  if (offsite?.result === 'failed') lines.push(`  off-site: could not be listed: ${offsite.message ?? 'no message'}`);
  else if (offsite) {
    lines.push(`  off-site (restic snapshots of ${offsite.host}):`);
    for (const s of offsite.snapshots) {
      const ageText = s.time ? age(Math.round((now.getTime() - Date.parse(s.time)) / 1000)) : '?';
      const size = s.bytes === null ? '' : `  ${humanBytes(s.bytes)}`;
      lines.push(`    ${s.stamp ?? '(no stamp)     '}  ${ageText.padStart(5)}  ${s.short_id}  ${s.kinds.join(' ')}${size}`);
    }
    if (offsite.snapshots.length === 0) lines.push('    none');
  }
  return `${lines.join('\n')}\n`;
}
