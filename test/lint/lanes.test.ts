// scripts/test.sh runs the e2e files in lanes side by side (docs/sandbox.md, "The e2e suite
// in CI"). Splitting a cell across lanes must not lose a file or run one twice: the first
// cell (the bookworm lanes) runs every test/e2e file once, the second (trixie) the same
// V2_FILES as the first cell's bookworm-v2 lane, each of them an existing file.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

async function plan(): Promise<Map<string, string[]>> {
  const run = await execa(path.join(ROOT, 'scripts/test.sh'), ['lanes'], { timeout: 10_000 });
  const lanes = new Map<string, string[]>();
  for (const line of run.stdout.split('\n')) {
    const [lane, file, ...rest] = line.split(' ');
    expect(rest, line).toEqual([]);
    lanes.set(lane as string, [...(lanes.get(lane as string) ?? []), file as string]);
  }
  return lanes;
}

const e2eFiles = () =>
  readdirSync(path.join(ROOT, 'test/e2e'))
    .filter((name) => name.endsWith('.test.ts'))
    .map((name) => `test/e2e/${name}`)
    .sort();

describe('the e2e lanes of scripts/test.sh', () => {
  it('the first cell runs every e2e file exactly once, across its two lanes', async () => {
    const lanes = await plan();
    expect([...lanes.keys()].sort()).toEqual(['bookworm-rest', 'bookworm-v2', 'trixie']);
    const first = [...(lanes.get('bookworm-v2') ?? []), ...(lanes.get('bookworm-rest') ?? [])].sort();
    expect(first).toEqual(e2eFiles());
    expect(lanes.get('bookworm-rest')).not.toEqual([]);
  });

  it('the second cell runs the first lane\'s V2_FILES, each an existing e2e file', async () => {
    const lanes = await plan();
    const v2 = lanes.get('trixie') ?? [];
    expect(v2).not.toEqual([]);
    expect(v2).toEqual(lanes.get('bookworm-v2'));
    expect(new Set(v2).size).toBe(v2.length);
    for (const file of v2) expect(e2eFiles()).toContain(file);
  });
});
