import { describe, expect, it } from 'vitest';
import { formatListing, parseListing } from '../../src/ansible/listing.js';

const NOW = new Date('2026-02-10T03:00:00Z');
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

describe('parseListing', () => {
  const listing = parseListing(
    [
      'FILE sqlite/sqlite_20260209_030000.db.gz 4096',
      'FILE config/config_20260209_030000.tar.gz 979',
      'FILE sqlite/sqlite_20260208_030000.db.gz 4000',
      'FILE sqlite/notes.txt 12',
      `SUM ${A} sqlite/sqlite_20260209_030000.db.gz`,
      `SUM ${B} config/config_20260209_030000.tar.gz`,
      `SUM ${A} sqlite/sqlite_20260208_030000.db.gz`,
      `MANIFEST ${A} sqlite/sqlite_20260209_030000.db.gz`,
      `MANIFEST ${A} config/config_20260209_030000.tar.gz`,
    ],
    { result: 'success', exit_code: 0, finished: '2026-02-09T03:00:09Z', tracker_downtime_seconds: 3.1 },
    NOW,
  );

  it('keeps only files named like backups, oldest first per kind, with age from the name', () => {
    expect(listing.backups.map((b) => [b.path, b.ageSeconds])).toEqual([
      ['config/config_20260209_030000.tar.gz', 86_400],
      ['sqlite/sqlite_20260208_030000.db.gz', 172_800],
      ['sqlite/sqlite_20260209_030000.db.gz', 86_400],
    ]);
  });

  it.each([
    ['sqlite/sqlite_20260209_030000.db.gz', 'verified'],
    ['config/config_20260209_030000.tar.gz', 'MISMATCH'],
    ['sqlite/sqlite_20260208_030000.db.gz', 'legacy (no manifest)'],
  ])('%s -> %s', (path, verdict) => {
    expect(listing.backups.find((b) => b.path === path)?.checksum).toBe(verdict);
  });

  it('formats one line per backup and the last run', () => {
    const text = formatListing('host-a', listing);
    expect(text).toContain('  sqlite:\n    20260208_030000     2d        4000 B  legacy (no manifest)  sqlite/sqlite_20260208_030000.db.gz');
    expect(text).toContain('last run: success (exit code 0) at 2026-02-09T03:00:09Z, tracker down 3.1s');
  });
});
