// The collection trackerbackup.tracker_backup (collection/ + scripts/collection.sh): it
// builds with ansible-galaxy, installs from the tarball, holds exactly roles/tracker_backup,
// and the example playbook (examples/collection) resolves the role from it.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

const SCRIPT = path.join(ROOT, 'scripts/collection.sh');
const ROLE = path.join(ROOT, 'roles/tracker_backup');
const installedRole = (collectionsPath: string) => path.join(collectionsPath, 'ansible_collections/trackerbackup/tracker_backup/roles/tracker_backup');

/** Every file under dir: relative path -> sha256 of its content and whether it is executable. */
function tree(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const executable = (statSync(file).mode & 0o111) !== 0 ? ' x' : '';
    files[path.relative(dir, file)] = createHash('sha256').update(readFileSync(file)).digest('hex') + executable;
  }
  return files;
}

describe('collection trackerbackup.tracker_backup', () => {
  let tarball = '';
  const installed = mkdtempSync(path.join(tmpdir(), 'tb-collection-'));

  beforeAll(async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'tb-collection-out-'));
    const build = await execa(SCRIPT, ['build', out]);
    tarball = build.stdout.trim();
    await execa('ansible-galaxy', ['collection', 'install', '-p', installed, tarball]);
  });

  it('builds a tarball named after its own namespace, not torrust', () => {
    expect(path.basename(tarball)).toMatch(/^trackerbackup-tracker_backup-\d+\.\d+\.\d+\.tar\.gz$/);
    expect(statSync(tarball).size).toBeGreaterThan(0);
    const manifest = JSON.parse(readFileSync(path.join(installed, 'ansible_collections/trackerbackup/tracker_backup/MANIFEST.json'), 'utf8')) as {
      collection_info: { namespace: string; name: string };
    };
    expect(manifest.collection_info).toMatchObject({ namespace: 'trackerbackup', name: 'tracker_backup' });
  });

  it('installs a role with exactly the files of roles/tracker_backup', () => {
    const expected = tree(ROLE);
    expect(Object.keys(expected).length).toBeGreaterThan(20);
    expect(tree(installedRole(installed))).toEqual(expected);
  });

  it('installs through scripts/collection.sh install into a collections path', async () => {
    const target = mkdtempSync(path.join(tmpdir(), 'tb-collection-script-'));
    await execa(SCRIPT, ['install', target]);
    const list = await execa('ansible-galaxy', ['collection', 'list', '--format', 'json', '-p', target], { env: { ANSIBLE_COLLECTIONS_PATH: target } });
    const collections = Object.values(JSON.parse(list.stdout) as Record<string, Record<string, { version: string }>>);
    expect(collections.some((found) => 'trackerbackup.tracker_backup' in found)).toBe(true);
    expect(tree(installedRole(target))).toEqual(tree(ROLE));
  });

  it('lets the example playbook call trackerbackup.tracker_backup.tracker_backup', async () => {
    const example = path.join(ROOT, 'examples/collection');
    const check = await execa('ansible-playbook', ['--syntax-check', '-i', 'inventory.yml', 'site.yml'], {
      cwd: example,
      env: { ANSIBLE_COLLECTIONS_PATH: installed },
      reject: false,
      all: true,
    });
    expect(check.all).not.toContain('ERROR');
    expect(check.exitCode).toBe(0);
    const without = await execa('ansible-playbook', ['--syntax-check', '-i', 'inventory.yml', 'site.yml'], {
      cwd: example,
      env: { ANSIBLE_COLLECTIONS_PATH: mkdtempSync(path.join(tmpdir(), 'tb-collection-none-')) },
      reject: false,
      all: true,
    });
    expect(without.exitCode).not.toBe(0);
    expect(without.all).toContain('trackerbackup.tracker_backup.tracker_backup');
  });
});
