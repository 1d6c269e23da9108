import { mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_MARKER, replaceRefusal, writeProject } from '../../src/render/write.js';

function scratch(): string {
  return mkdtempSync(path.join(tmpdir(), 'tb-write-'));
}

describe('replaceRefusal', () => {
  it('sees through a symbolic link in a parent: a path that resolves to a protected directory or its parent is refused', async () => {
    const base = scratch();
    const cwd = path.join(base, 'real/cwd');
    mkdirSync(cwd, { recursive: true });
    symlinkSync(path.join(base, 'real'), path.join(base, 'link'));
    expect(await replaceRefusal(path.join(base, 'link/cwd'), { 'the current directory': cwd })).toBe('is the current directory');
    expect(await replaceRefusal(path.join(base, 'link/cwd/..'), { 'the current directory': cwd })).toBe('contains the current directory');
    expect(await replaceRefusal(path.join(base, 'link/other'), { 'the current directory': cwd })).toBeUndefined();
  });

  it('accepts a new or empty directory and a generated project, and refuses one whose marker is not a file', async () => {
    const base = scratch();
    expect(await replaceRefusal(path.join(base, 'new/project'), {})).toBeUndefined();
    mkdirSync(path.join(base, 'empty'));
    expect(await replaceRefusal(path.join(base, 'empty'), {})).toBeUndefined();
    await writeProject(path.join(base, 'generated'), new Map([['site.yml', { content: '---\n', mode: 0o644 }]]));
    expect(await replaceRefusal(path.join(base, 'generated'), {})).toBeUndefined();
    mkdirSync(path.join(base, 'fake', PROJECT_MARKER), { recursive: true });
    expect(await replaceRefusal(path.join(base, 'fake'), {})).toMatch(/^is not empty and is not a project tracker-backup rendered/);
  });
});

describe('writeProject', () => {
  it('marks every project it writes', async () => {
    const out = path.join(scratch(), 'project');
    await writeProject(out, new Map([['a/b.txt', { content: 'x', mode: 0o600 }]]));
    expect(readFileSync(path.join(out, PROJECT_MARKER), 'utf8')).toContain('tracker-backup');
    expect(readFileSync(path.join(out, 'a/b.txt'), 'utf8')).toBe('x');
  });
});
