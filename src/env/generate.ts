// Documents derived from the schema: the JSON Schema editors use, an example env file
// and the field reference in docs/. scripts/generate-schema.ts writes them; a test fails
// when the committed copies are stale.
import { branches, exampleOf, jsonSchemaOf, type JsonNode } from './describe.js';
import { envSchema } from './schema.js';

export function jsonSchema(): string {
  const schema = jsonSchemaOf(envSchema);
  return `${JSON.stringify({ ...schema, title: 'tracker-backup environment file' }, null, 2)}\n`;
}

export function exampleEnv(): Record<string, unknown> {
  const example = exampleOf(jsonSchemaOf(envSchema)) as Record<string, unknown>;
  // An operator copying the example would point at an image that does not exist;
  // leaving `image` out means the bundled one is built, which is what they want.
  delete (example.backup as Record<string, unknown>).image;
  // The example is an SQLite deployment, and database_network exists only where the
  // deployer runs MySQL: a compose run would fail on a network the project lacks.
  delete (example.backup as Record<string, unknown>).compose_networks;
  // A placeholder ping URL would have every run ping a check that does not exist.
  delete (example.backup as Record<string, unknown>).alerts;
  // An off-site repository of the example's would be one nobody can reach (docs/offsite.md has one).
  delete (example.backup as Record<string, unknown>).offsite;
  // instance and instances exclude each other; the example shows the one-host form
  // (docs/environment.md shows instances).
  delete example.instances;
  return { $schema: '../schemas/environment.schema.json', ...example };
}

interface Row {
  path: string;
  description: string;
}

function rows(node: JsonNode, prefix: string, out: Row[]): void {
  for (const branch of branches(node)) {
    if (branch.type === 'array' && branch.items) rows(branch.items, `${prefix}[]`, out);
    for (const [key, field] of Object.entries(branch.properties ?? {})) {
      const path = prefix ? `${prefix}.${key}` : key;
      if (field.description && !out.some((r) => r.path === path)) out.push({ path, description: field.description });
      rows(field, path, out);
    }
  }
}

export function referenceMarkdown(): string {
  const out: Row[] = [];
  rows(jsonSchemaOf(envSchema), '', out);
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
