// eslint.config.js, as `npm run lint` uses it: typescript-eslint's type-checked rules catch
// the faults issue 13 names (a promise nobody awaits, `any` flowing into typed code).
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

const eslint = new ESLint({ cwd: ROOT });

/** The rules the project's config reports on `code`, linted as if it were test/helpers.ts. */
async function findings(code: string): Promise<string[]> {
  // An existing file's path, so the project service types the text inside tsconfig.json's program.
  const results = await eslint.lintText(code, { filePath: path.join(ROOT, 'test/helpers.ts') });
  return results.flatMap((result) => result.messages.map((message) => message.ruleId ?? message.message));
}

describe('the TypeScript lint config', () => {
  it.each([
    ['a promise nobody awaits', 'async function save(): Promise<void> {}\nsave();\n', ['@typescript-eslint/no-floating-promises']],
    ['a promise deliberately voided', 'async function save(): Promise<void> {}\nvoid save();\n', []],
    ['JSON.parse assigned to a typed variable', "export const port: number = JSON.parse('22');\n", ['@typescript-eslint/no-unsafe-assignment']],
    ['JSON.parse typed by an assertion', "export const port = JSON.parse('22') as number;\n", []],
    ['an explicit any', 'export function show(value: any): string {\n  return String(value);\n}\n', ['@typescript-eslint/no-explicit-any']],
    ['a member read from any', 'export function hostOf(data: any): unknown {\n  return data.host;\n}\n', ['@typescript-eslint/no-explicit-any', '@typescript-eslint/no-unsafe-member-access']],
  ])('%s', async (_name, code, rules) => {
    expect((await findings(code)).sort()).toEqual(rules);
  });
});
