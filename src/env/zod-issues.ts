// zod's validation issues as EnvIssues: each with its JSON path, and the example and the
// allowed keys read from the schema. Loaded only when an environment file is validated.
import type { z } from 'zod';
import { exampleOf, jsonSchemaOf, keysOf, schemaAt, type JsonNode } from './describe.js';
import { closest, formatPath, type EnvIssue } from './errors.js';

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const key of path) value = value && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  return value;
}

/** Past this, a whole-section example buries the message; the example file has it all. */
const EXAMPLE_MAX = 160;

function exampleText(node: JsonNode | undefined): string | undefined {
  if (!node) return undefined;
  const example = exampleOf(node);
  if (example === undefined) return undefined;
  const text = JSON.stringify(example);
  return text.length <= EXAMPLE_MAX ? text : 'see envs/example.json and docs/environment.md';
}

/** One EnvIssue per zod issue; unknown keys get one issue each, with a "did you mean". */
export function issuesFromZod(error: z.ZodError, schema: z.ZodType, data: unknown): EnvIssue[] {
  const root = jsonSchemaOf(schema);
  const out: EnvIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const parent = schemaAt(root, issue.path, data);
      const known = keysOf(parent, valueAt(data, issue.path));
      for (const key of issue.keys) {
        const guess = closest(key, known);
        out.push({
          path: formatPath([...issue.path, key]),
          message: `unknown key${guess ? `; did you mean "${guess}"?` : ''} (allowed here: ${known.join(', ')})`,
        });
      }
      continue;
    }
    const value = valueAt(data, issue.path);
    const message = value === undefined && issue.code === 'invalid_type' ? 'is required' : issue.message;
    out.push({ path: formatPath(issue.path), message, example: exampleText(schemaAt(root, issue.path, data)) });
  }
  return out;
}
