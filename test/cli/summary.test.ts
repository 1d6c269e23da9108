import { describe, expect, it } from 'vitest';
import { parseEnv } from '../../src/env/load.js';
import { describeRun } from '../../src/cli/summary.js';
import { hostsOf } from '../../src/env/hosts.js';
import { judgeRun, type HostStats, type PlayStats } from '../../src/ansible/stats.js';
import { exampleEnv, withValue } from '../helpers.js';

const NOW = new Date('2026-02-03T00:00:00Z');

function host(partial: Partial<HostStats>): HostStats {
  return { ok: 10, changed: 0, failures: 0, unreachable: 0, skipped: 1, rescued: 0, ignored: 0, ...partial };
}

const single = parseEnv('a.json', JSON.stringify(exampleEnv()));
const named = (envs: ReturnType<typeof parseEnv>[]) => envs.flatMap((env) => hostsOf(env).map((h) => h.name));
const summary = (stats: PlayStats, envs: ReturnType<typeof parseEnv>[], check: boolean) => describeRun(stats, judgeRun(stats, named(envs), 0), envs, NOW, check);

const fleet = parseEnv(
  'b.json',
  JSON.stringify(
    withValue(withValue(withValue(exampleEnv(), 'environment.name', 'fleet'), 'instance', undefined), 'instances', [
      { name: 'eu', host: '198.51.100.1' },
      { name: 'us', host: '198.51.100.2' },
      { name: 'asia', host: '198.51.100.3' },
    ]),
  ),
);

describe('the summary of a run over several hosts', () => {
  const stats: PlayStats = {
    hosts: { 'my-deployment': host({ changed: 3 }), 'fleet-eu': host({}), 'fleet-us': host({ unreachable: 1, ok: 0 }) },
    created: {},
    custom: {},
  };

  it('has a line per host, marks the failed and the missing ones, and counts them', () => {
    const text = summary(stats, [single, fleet], false);
    expect(text).toContain('  my-deployment: ok  ok=10 changed=3 failed=0 unreachable=0 skipped=1');
    expect(text).toContain('  fleet-eu: ok  ok=10');
    expect(text).toContain('  fleet-us: FAILED  ok=0 changed=0 failed=0 unreachable=1');
    // A host Ansible never reported on (e.g. the run was cut short) is not silently "ok".
    expect(text).toContain("  fleet-asia: FAILED  (not in Ansible's recap)");
    expect(text).toContain('  hosts: 4, changed: 3, failed: 2 (fleet-us, fleet-asia)');
    expect(text).toContain('next scheduled backup (fleet): 2026-02-03 03:00 UTC');
  });

  it('keeps the one-host wording for one environment', () => {
    const text = summary({ hosts: { 'my-deployment': host({}) }, created: {}, custom: {} }, [single], true);
    expect(text).toContain('Summary (dry run, nothing was changed):');
    expect(text).toContain('  hosts: 1, changed: 0, failed: 0\n');
    expect(text).toContain('  next scheduled backup: 2026-02-03 03:00 UTC');
  });

  it('names the hosts --limit left out as not run, and does not count them', () => {
    const limited: PlayStats = { hosts: { 'fleet-eu': host({ changed: 1 }) }, created: {}, custom: {}, targets: ['fleet-eu'] };
    const text = summary(limited, [fleet], false);
    expect(text).toContain('  fleet-eu: ok  ok=10 changed=1');
    expect(text).toContain('  fleet-us: not run  (left out by --limit)');
    expect(text).toContain('  hosts: 1, changed: 1, failed: 0\n');
  });
});
