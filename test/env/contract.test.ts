// The role's files are generated from the schema through the contract (npm run schema).
// Regenerated in memory here, they must equal the committed ones: a hand edit to any of
// them, or a schema change without regenerating, fails this file.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { confSpecs, roleDefault, roleSettings, roleVariable } from '../../src/env/contract.js';
import { argumentSpecsYaml, defaultsYaml, roleReadme, settingsTsv, validateYaml } from '../../src/env/generate-role.js';
import { parseEnv } from '../../src/env/load.js';
import { backupSchema } from '../../src/env/schema.js';
import { roleVars } from '../../src/render/vars.js';
import { exampleEnv, ROOT, withValue } from '../helpers.js';

const ROLE = path.join(ROOT, 'roles/tracker_backup');
const committed = (file: string) => readFileSync(path.join(ROLE, file), 'utf8');

describe('role files generated from the schema are up to date (run `npm run schema` when this fails)', () => {
  it.each([
    ['defaults/main.yml', defaultsYaml],
    ['meta/argument_specs.yml', argumentSpecsYaml],
    ['tasks/validate.yml', validateYaml],
    ['files/lib/settings.tsv', settingsTsv],
    ['README.md', () => roleReadme(committed('README.md'))],
  ])('%s', (file, generate) => {
    expect(committed(file)).toBe(generate());
  });
});

describe('the contract reads the schema', () => {
  const setting = (variable: string) => roleSettings().find((s) => s.variable === variable);

  it('takes defaults, choices and ranges from the zod schema', () => {
    expect(setting('tracker_backup_mode')).toMatchObject({ field: 'backup.mode', type: 'str', default: 'stop', choices: ['stop', 'online'] });
    expect(setting('tracker_backup_retention_days')).toMatchObject({ type: 'int', default: 7, minimum: 1, maximum: 365 });
    expect(setting('tracker_backup_database_driver')?.choices).toEqual(['sqlite3', 'mysql']);
    expect(setting('tracker_backup_mysql_database')?.default).toBe('torrust_tracker');
    expect(roleDefault('tracker_backup_tracker_stop_signal')).toBe(backupSchema.parse({}).tracker_stop_signal);
  });

  it('maps environment fields to role variables one to one', () => {
    expect(roleVariable('backup.retention_days')).toBe('tracker_backup_retention_days');
    const fields = roleSettings().flatMap((s) => (s.field ? [s.field] : []));
    expect(new Set(fields).size).toBe(fields.length);
  });

  it('backup.conf.j2 writes exactly the keys of settings.tsv, each from its variable', () => {
    const template = readFileSync(path.join(ROLE, 'templates/backup.conf.j2'), 'utf8');
    const written = template
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => line.replace(/\s+/g, ''));
    expect(written).toEqual(expect.arrayContaining(confSpecs().map((c) => `${c.key}={{${c.variable}}}`)));
    expect(written).toHaveLength(confSpecs().length);
  });
});

describe('the CLI and the role agree on every default', () => {
  it('an environment with "backup": {} renders exactly the role defaults', () => {
    const env = parseEnv('e.json', JSON.stringify(withValue(exampleEnv(), 'backup', {})));
    const { vars } = roleVars(env);
    const defaults = parse(committed('defaults/main.yml')) as Record<string, unknown>;
    for (const [key, value] of Object.entries(vars)) expect(value, key).toEqual(defaults[key]);
  });
});
