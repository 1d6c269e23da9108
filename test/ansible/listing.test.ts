import { describe, expect, it } from 'vitest';
import { formatListing, hostBackups, humanBytes, type HostBackup } from '../../src/ansible/listing.js';

const NOW = new Date('2026-02-10T03:00:00Z');
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

function backup(path: string, bytes: number, checksum: HostBackup['checksum'], sha256 = A): HostBackup {
  const [, kind = '', stamp = ''] = /^(\w+)\/\w+_(\d{8}_\d{6})/.exec(path) ?? [];
  const taken = `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}Z`;
  return { kind, path, stamp, taken_at: taken, bytes, sha256, expected_sha256: checksum === 'legacy' ? null : sha256, checksum };
}

// A document as `tracker-backup list --json` prints it (the program's own output is fed
// to the formatter in test/role/host-program.test.ts).
const listing = hostBackups({
  schema: 'tracker-backup.list.v1',
  store: '/opt/torrust/storage/backup',
  backups: [
    backup('sqlite/sqlite_20260208_030000.db.gz', 4000, 'legacy'),
    backup('sqlite/sqlite_20260209_030000.db.gz', 4096, 'verified'),
    backup('config/config_20260209_030000.tar.gz', 979, 'mismatch', B),
  ],
  last_run: { result: 'success', exit_code: 0, finished: '2026-02-09T03:00:09Z', tracker_downtime_seconds: 3.1 },
});

describe('formatListing', () => {
  const text = formatListing('host-a', listing, NOW);

  it('groups by kind, oldest first, with the age from the stamp', () => {
    expect(text.split('\n').slice(0, 6)).toEqual([
      'host-a:',
      '  sqlite:',
      '    20260208_030000     2d     3.9 KiB  legacy (no manifest)  sqlite/sqlite_20260208_030000.db.gz',
      '    20260209_030000    24h       4 KiB  verified  sqlite/sqlite_20260209_030000.db.gz',
      '  config:',
      '    20260209_030000    24h       979 B  MISMATCH  config/config_20260209_030000.tar.gz',
    ]);
  });

  it('shows the last run', () => {
    expect(text).toContain('last run: success (exit code 0) at 2026-02-09T03:00:09Z, tracker down 3.1s');
  });

  it('a host that sent nothing has no backups and no last run', () => {
    expect(formatListing('host-b', hostBackups(undefined), NOW)).toBe('host-b:\n  no backups\n  last run: none recorded\n');
  });

  it('a host with backup.offsite: its snapshots after the last run, oldest first, with stamp, age, short id, kinds and (when known) size', () => {
    const snapshot = (stamp: string, time: string, id: string, bytes: number | null) => ({ id: id.repeat(64), short_id: id.repeat(8), stamp, time, kinds: ['sqlite', 'config'], paths: ['/backups/.offsite-upload/database.db', '/backups/.offsite-upload/config.tar.gz'], bytes });
    const withOffsite = hostBackups({ ...listing, offsite: { host: 'prod', result: 'success', message: null, snapshots: [snapshot('20260201_030000', '2026-02-01T03:00:04Z', 'c', null), snapshot('20260209_030000', '2026-02-09T03:00:05Z', 'd', 10_485_760)] } });
    expect(formatListing('host-a', withOffsite, NOW).split('\n').slice(7)).toEqual([
      '  off-site (restic snapshots of prod):',
      '    20260201_030000     9d  cccccccc  sqlite config',
      '    20260209_030000    24h  dddddddd  sqlite config  10 MiB',
      '',
    ]);
    expect(formatListing('host-a', { ...listing, offsite: { host: 'prod', result: 'failed', message: 'Off-site repository could not be read: Fatal: unable to open config file', snapshots: [] } }, NOW))
      .toContain('\n  off-site: could not be listed: Off-site repository could not be read: Fatal: unable to open config file\n');
    // A host without backup.offsite: exactly as before.
    expect(formatListing('host-a', listing, NOW)).not.toContain('off-site');
  });

  it('refuses a document of another schema version', () => {
    expect(() => hostBackups({ schema: 'tracker-backup.list.v2', backups: [] })).toThrow(/expected tracker-backup\.list\.v1/);
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
