import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exampleEnv, jsonSchema, referenceMarkdown } from '../../src/env/generate.js';
import { ROOT } from '../helpers.js';

const committed = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

describe('files generated from the schema are up to date (run `npm run schema` when this fails)', () => {
  it('schemas/environment.schema.json', () => {
    expect(committed('schemas/environment.schema.json')).toBe(jsonSchema());
  });
  it('envs/example.json', () => {
    expect(JSON.parse(committed('envs/example.json'))).toEqual(exampleEnv());
  });
  it('docs/environment.md', () => {
    expect(committed('docs/environment.md')).toBe(referenceMarkdown());
  });
  it('the JSON Schema rejects unknown top-level keys, like the loader', () => {
    expect((JSON.parse(jsonSchema()) as { additionalProperties?: unknown }).additionalProperties).toBe(false);
  });
});
