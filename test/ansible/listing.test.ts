import { describe, expect, it } from 'vitest';
import { formatListing, humanBytes, parseListing } from '../../src/ansible/listing.js';

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
    expect(text).toContain('  sqlite:\n    20260208_030000     2d     3.9 KiB  legacy (no manifest)  sqlite/sqlite_20260208_030000.db.gz');
    expect(text).toContain('last run: success (exit code 0) at 2026-02-09T03:00:09Z, tracker down 3.1s');
  });
});

describe('humanBytes', () => {
  it.each([
    [0, '0 B'],
    [1, '1 B'],
    [1023, '1023 B'],
    [1024, '1 KiB'],
    [1536, '1.5 KiB'],
    [4000, '3.9 KiB'],
    [1024 * 1024 - 1, '1.0 MiB'],
    [1.5 * 1024 ** 2, '1.5 MiB'],
    [150.4 * 1024 ** 2, '150 MiB'],
    [2 * 1024 ** 3 - 1000, '2.0 GiB'],
    [2 * 1024 ** 3, '2 GiB'],
    [3 * 1024 ** 4, '3 TiB'],
  ])('%d bytes -> %s', (bytes, text) => {
    expect(humanBytes(bytes)).toBe(text);
  });
});
