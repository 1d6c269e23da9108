// What the role's list task reports (raw `FILE`, `SUM`, `MANIFEST` lines, plus status.json)
// turned into backups with ages and checksum verdicts. Pure: the clock is a parameter.
export type Kind = 'sqlite' | 'mysql' | 'config';
export type Checksum = 'verified' | 'MISMATCH' | 'legacy (no manifest)';

export interface BackupEntry {
  kind: Kind;
  path: string;
  stamp: string;
  takenAt: string;
  ageSeconds: number;
  bytes: number;
  checksum: Checksum;
}

export interface HostBackups {
  backups: BackupEntry[];
  lastRun: Record<string, unknown> | null;
}

const NAME = /^(sqlite|mysql|config)\/(?:sqlite|mysql|config)_(\d{4})(\d\d)(\d\d)_(\d\d)(\d\d)(\d\d)\.(?:db|sql|tar)\.(?:gz|zst)$/;

export function parseListing(lines: readonly string[], lastRun: Record<string, unknown> | null, now: Date): HostBackups {
  const sizes = new Map<string, number>();
  const sums = new Map<string, string>();
  const listed = new Map<string, string>();
  for (const line of lines) {
    const [tag, a = '', b = ''] = line.split(/\s+/);
    if (tag === 'FILE') sizes.set(a, Number(b));
    else if (tag === 'SUM') sums.set(b, a);
    else if (tag === 'MANIFEST') listed.set(b, a);
  }
  const backups: BackupEntry[] = [];
  for (const [path, bytes] of sizes) {
    const m = NAME.exec(path);
    if (!m) continue;
    const [, kind, y, mo, d, h, mi, s] = m;
    const takenAt = `${y}-${mo}-${d}T${h}:${mi}:${s}Z`;
    const expected = listed.get(path);
    backups.push({
      kind: kind as Kind,
      path,
      stamp: `${y}${mo}${d}_${h}${mi}${s}`,
      takenAt,
      ageSeconds: Math.round((now.getTime() - Date.parse(takenAt)) / 1000),
      bytes,
      checksum: expected === undefined ? 'legacy (no manifest)' : expected === sums.get(path) ? 'verified' : 'MISMATCH',
    });
  }
  backups.sort((x, y) => x.kind.localeCompare(y.kind) || x.stamp.localeCompare(y.stamp));
  return { backups, lastRun };
}

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

export function formatListing(host: string, listing: HostBackups): string {
  const lines = [`${host}:`];
  for (const kind of ['sqlite', 'mysql', 'config'] as const) {
    const entries = listing.backups.filter((b) => b.kind === kind);
    if (entries.length === 0) continue;
    lines.push(`  ${kind}:`);
    for (const b of entries) {
      lines.push(`    ${b.stamp}  ${age(b.ageSeconds).padStart(5)}  ${humanBytes(b.bytes).padStart(10)}  ${b.checksum}  ${b.path}`);
    }
  }
  if (listing.backups.length === 0) lines.push('  no backups');
  const run = listing.lastRun;
  lines.push(run ? `  last run: ${String(run.result)} (exit code ${String(run.exit_code)}) at ${String(run.finished)}, tracker down ${String(run.tracker_downtime_seconds)}s` : '  last run: none recorded');
  return `${lines.join('\n')}\n`;
}
