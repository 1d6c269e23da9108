// Documents derived from the schema: the JSON Schema editors use, an example env file
// and the field reference in docs/. scripts/generate-schema.ts writes them; a test fails
// when the committed copies are stale.
import { z } from 'zod';
import { descriptionOf, exampleOf } from './describe.js';
import { envSchema } from './schema.js';

export function jsonSchema(): string {
  const schema = z.toJSONSchema(envSchema, { io: 'input', unrepresentable: 'any' });
  return `${JSON.stringify({ ...schema, title: 'tracker-backup environment file' }, null, 2)}\n`;
}

export function exampleEnv(): Record<string, unknown> {
  const example = exampleOf(envSchema) as Record<string, unknown>;
  // An operator copying the example would point at an image that does not exist;
  // leaving `image` out means the bundled one is built, which is what they want.
  delete (example.backup as Record<string, unknown>).image;
  // The example is an SQLite deployment, and database_network exists only where the
  // deployer runs MySQL: a compose run would fail on a network the project lacks.
  delete (example.backup as Record<string, unknown>).compose_networks;
  // instance and instances exclude each other; the example shows the one-host form
  // (docs/environment.md shows instances).
  delete example.instances;
  return { $schema: '../schemas/environment.schema.json', ...example };
}

interface Row {
  path: string;
  description: string;
}

function rows(schema: z.ZodType, prefix: string, out: Row[]): void {
  const def = (schema as unknown as { _zod: { def: { type: string; innerType?: z.ZodType; shape?: Record<string, z.ZodType>; options?: z.ZodType[]; element?: z.ZodType } } })._zod.def;
  if (['optional', 'default', 'nullable'].includes(def.type) && def.innerType) {
    rows(def.innerType, prefix, out);
    return;
  }
  if (def.type === 'union' && def.options) {
    for (const option of def.options) rows(option, prefix, out);
    return;
  }
  if (def.type === 'array' && def.element) {
    rows(def.element, `${prefix}[]`, out);
    return;
  }
  if (def.type === 'object' && def.shape) {
    for (const [key, field] of Object.entries(def.shape)) {
      const path = prefix ? `${prefix}.${key}` : key;
      const description = descriptionOf(field);
      if (description && !out.some((r) => r.path === path)) out.push({ path, description });
      rows(field, path, out);
    }
  }
}

export function referenceMarkdown(): string {
  const out: Row[] = [];
  rows(envSchema, '', out);
  const table = out.map((r) => `| \`${r.path}\` | ${r.description.replaceAll('|', '\\|')} |`).join('\n');
  return `<!-- Generated from src/env/schema.ts by \`npm run schema\`; do not edit. -->
# Environment file reference

Every field the tool reads. Unknown keys in these sections are errors; the deployer's
other sections (\`provider\`, \`prometheus\`, \`grafana\`, \`https\`, the tracker's other keys)
are accepted and ignored. JSON Schema: [schemas/environment.schema.json](../schemas/environment.schema.json).

| field | meaning |
| --- | --- |
${table}

## Example

\`\`\`json
${JSON.stringify(exampleEnv(), null, 2)}
\`\`\`
`;
}
