// render --out DIR replaces DIR whole, so it must refuse any directory that is not its own:
// `--out .` once wiped the caller's directory.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_MARKER } from '../../src/render/write.js';
import { exampleEnv, ROOT, runMain, withValue } from '../helpers.js';

const cli = (argv: string[], cwd: string, root = ROOT) => runMain(argv, { cwd, root, projectDir: root });

/** Every file below `dir` with its content, to show a directory was left exactly as it was. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    files[path.relative(dir, full)] = entry.isFile() ? readFileSync(full, 'utf8') : `<${entry.isDirectory() ? 'dir' : 'other'}>`;
  }
  return files;
}

/** A directory holding some of the user's files. */
function userDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tb-user-'));
  writeFileSync(path.join(dir, 'notes.txt'), 'mine\n');
  mkdirSync(path.join(dir, 'work'));
  writeFileSync(path.join(dir, 'work/plan.md'), '# plan\n');
  return dir;
}

function envFile(data: unknown): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'tb-env-')), 'env.json');
  writeFileSync(file, JSON.stringify(data));
  return file;
}

function expectRefused(run: { code: number; stderr: string }, message: string): void {
  expect(run.code).toBe(2);
  expect(run.stderr).toContain(message);
  expect(run.stderr).toContain('nothing was written');
  expect(run.stderr.trim().split('\n')).toHaveLength(2);
}

describe('render --out refuses a directory it did not generate', () => {
  it('--out . is refused and the current directory keeps every file', async () => {
    const cwd = userDir();
    const before = snapshot(cwd);
    expectRefused(await cli(['render', '--env', 'example', '--out', '.'], cwd), '--out .: is the current directory');
    expect(snapshot(cwd)).toEqual(before);
  });

  it('a parent of the current directory is refused and left as it was', async () => {
    const base = userDir();
    const cwd = path.join(base, 'work');
    const before = snapshot(base);
    expectRefused(await cli(['render', '--env', 'example', '--out', '..'], cwd), '--out ..: contains the current directory');
    expect(snapshot(base)).toEqual(before);
  });

  it('--out / is refused', async () => {
    expectRefused(await cli(['render', '--env', 'example', '--out', '/'], userDir()), '--out /: is the root directory');
  });

  it('a directory holding the package is refused', async () => {
    // A package root of its own (links to this one's role, playbooks and templates), so the
    // directory at stake is a scratch one.
    const base = userDir();
    const root = path.join(base, 'work/package');
    mkdirSync(path.join(root, 'src/render'), { recursive: true });
    for (const dir of ['roles', 'playbooks', 'envs', 'src/render/templates']) symlinkSync(path.join(ROOT, dir), path.join(root, dir));
    const before = snapshot(base);
    expectRefused(await cli(['render', '--env', 'example', '--out', base], userDir(), root), 'contains the tracker-backup package');
    expect(snapshot(base)).toEqual(before);
  });

  it('a non-empty directory of the user is refused and untouched', async () => {
    const cwd = userDir();
    const target = userDir();
    const before = snapshot(target);
    expectRefused(await cli(['render', '--env', 'example', '--out', target], cwd), `is not empty and is not a project tracker-backup rendered (it has no ${PROJECT_MARKER})`);
    expect(snapshot(target)).toEqual(before);
  });

  it('a file, or a symbolic link even to a generated project, is refused', async () => {
    const cwd = userDir();
    expectRefused(await cli(['render', '--env', 'example', '--out', 'notes.txt'], cwd), 'is not a directory');
    expect(readFileSync(path.join(cwd, 'notes.txt'), 'utf8')).toBe('mine\n');
    expect((await cli(['render', '--env', 'example', '--out', 'project'], cwd)).code).toBe(0);
    symlinkSync('project', path.join(cwd, 'link'));
    expectRefused(await cli(['render', '--env', 'example', '--out', 'link'], cwd), '--out link: is a symbolic link');
    expect(existsSync(path.join(cwd, 'project', PROJECT_MARKER))).toBe(true);
  });
});

describe('render --out writes where it may', () => {
  it('an empty directory is accepted and gets the marker', async () => {
    const cwd = userDir();
    const target = mkdtempSync(path.join(tmpdir(), 'tb-empty-'));
    const run = await cli(['render', '--env', 'example', '--out', target], cwd);
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(path.join(target, PROJECT_MARKER))).toBe(true);
    expect(existsSync(path.join(target, 'site.yml'))).toBe(true);
  });

  it('a project rendered earlier is replaced whole: its old files go, the new ones are there', async () => {
    const cwd = userDir();
    const target = path.join(cwd, 'build');
    expect((await cli(['render', '--env', 'example', '--out', 'build'], cwd)).code).toBe(0);
    writeFileSync(path.join(target, 'leftover.yml'), 'old\n');
    const renamed = envFile(withValue(exampleEnv(), 'environment.name', 'renamed'));
    const run = await cli(['render', '--env', renamed, '--out', 'build'], cwd);
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(path.join(target, 'leftover.yml'))).toBe(false);
    expect(existsSync(path.join(target, 'group_vars/env_my_deployment'))).toBe(false);
    expect(existsSync(path.join(target, 'group_vars/env_renamed/tracker_backup.yml'))).toBe(true);
    expect(existsSync(path.join(target, PROJECT_MARKER))).toBe(true);
    // No staging directory is left beside it.
    expect(readdirSync(cwd).sort()).toEqual(['build', 'notes.txt', 'work']);
  });
});
