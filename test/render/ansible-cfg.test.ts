// The generated ansible.cfg as Ansible itself reads it (`ansible-config dump`): a misspelt
// key or section would be ignored without a word, and the setting with it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parseEnv } from '../../src/env/load.js';
import { renderProject } from '../../src/render/project.js';
import { loadSources } from '../../src/render/sources.js';
import { exampleEnv, ROOT } from '../helpers.js';

/** The settings the generated ansible.cfg changes from Ansible's defaults, name -> value. */
async function changedSettings(): Promise<Record<string, string>> {
  const project = renderProject(parseEnv('e.json', JSON.stringify(exampleEnv())), await loadSources('/home/op', ROOT));
  const dir = mkdtempSync(path.join(tmpdir(), 'tb-cfg-'));
  const cfg = path.join(dir, 'ansible.cfg');
  writeFileSync(cfg, project.get('ansible.cfg')?.content ?? '');
  const { stdout } = await execa('ansible-config', ['dump', '--only-changed'], { env: { ANSIBLE_CONFIG: cfg } });
  const settings: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const match = /^(\w+)\(.*\) = (.*)$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) settings[match[1]] = match[2];
  }
  return settings;
}

describe('ansible.cfg: the controller side kept cheap per host (bench/hosts.sh, docs/performance.md)', () => {
  it('polls its workers every 10 ms, not every 1 ms (Ansible\'s default), and keeps forks at 10', async () => {
    const settings = await changedSettings();
    expect(settings.DEFAULT_INTERNAL_POLL_INTERVAL).toBe('0.01');
    expect(settings.DEFAULT_FORKS).toBe('10');
  });
});
