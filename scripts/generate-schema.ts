// Writes the files derived from src/env/schema.ts. Run from the repo root: npm run schema.
import { writeFile } from 'node:fs/promises';
import { exampleEnv, jsonSchema, referenceMarkdown } from '../src/env/generate.js';

await writeFile('schemas/environment.schema.json', jsonSchema());
await writeFile('envs/example.json', `${JSON.stringify(exampleEnv(), null, 2)}\n`);
await writeFile('docs/environment.md', referenceMarkdown());
