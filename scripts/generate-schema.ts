// Writes the files derived from src/env/schema.ts (and, for the role's files, the contract
// in src/env/contract.ts). Run from the repo root: npm run schema.
import { readFile, writeFile } from 'node:fs/promises';
import { exampleEnv, jsonSchema, referenceMarkdown } from '../src/env/generate.js';
import { argumentSpecsYaml, defaultsYaml, roleReadme, settingsTsv, validateYaml } from '../src/env/generate-role.js';

const ROLE = 'roles/tracker_backup';

await writeFile('schemas/environment.schema.json', jsonSchema());
await writeFile('envs/example.json', `${JSON.stringify(exampleEnv(), null, 2)}\n`);
await writeFile('docs/environment.md', referenceMarkdown());
await writeFile(`${ROLE}/defaults/main.yml`, defaultsYaml());
await writeFile(`${ROLE}/meta/argument_specs.yml`, argumentSpecsYaml());
await writeFile(`${ROLE}/tasks/validate.yml`, validateYaml());
await writeFile(`${ROLE}/README.md`, roleReadme(await readFile(`${ROLE}/README.md`, 'utf8')));
await writeFile(`${ROLE}/files/lib/settings.tsv`, settingsTsv());
