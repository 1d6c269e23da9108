// A small JSON Schema checker for the host program's documents (schemas/host/*.schema.json),
// covering the keywords those files use: type, const, enum, required, properties,
// additionalProperties: false, items, pattern, minimum, allOf, anyOf and $ref (within a
// file, or to another file of schemas/host). Returns the problems, one line each.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './helpers.js';

type Schema = Record<string, unknown>;

const DIR = path.join(ROOT, 'schemas/host');
const files = new Map<string, Schema>();

function load(file: string): Schema {
  let schema = files.get(file);
  if (!schema) {
    schema = JSON.parse(readFileSync(path.join(DIR, file), 'utf8')) as Schema;
    files.set(file, schema);
  }
  return schema;
}

function resolve(ref: string, file: string): [Schema, string] {
  const [target = '', pointer = ''] = ref.split('#');
  const next = target || file;
  let node: unknown = load(next);
  for (const part of pointer.split('/').filter(Boolean)) node = (node as Schema)[part];
  if (!node) throw new Error(`unresolved $ref ${ref} in ${file}`);
  return [node as Schema, next];
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function check(value: unknown, schema: Schema, file: string, at: string, out: string[]): void {
  if (typeof schema.$ref === 'string') {
    const [target, targetFile] = resolve(schema.$ref, file);
    check(value, target, targetFile, at, out);
  }
  if (schema.type !== undefined) {
    const types = ([] as unknown[]).concat(schema.type);
    const actual = typeOf(value);
    if (!types.includes(actual) && !(actual === 'integer' && types.includes('number'))) out.push(`${at}: ${actual}, expected ${types.join(' or ')}`);
  }
  if ('const' in schema && value !== schema.const) out.push(`${at}: ${JSON.stringify(value)}, expected ${JSON.stringify(schema.const)}`);
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) out.push(`${at}: ${JSON.stringify(value)}, expected one of ${JSON.stringify(schema.enum)}`);
  if (typeof schema.pattern === 'string' && typeof value === 'string' && !new RegExp(schema.pattern, 'u').test(value)) out.push(`${at}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
  if (typeof schema.minimum === 'number' && typeof value === 'number' && value < schema.minimum) out.push(`${at}: ${value} < ${schema.minimum}`);
  for (const sub of (schema.allOf as Schema[] | undefined) ?? []) check(value, sub, file, at, out);
  if (Array.isArray(schema.anyOf)) {
    const passes = (schema.anyOf as Schema[]).some((sub) => {
      const problems: string[] = [];
      check(value, sub, file, at, problems);
      return problems.length === 0;
    });
    if (!passes) out.push(`${at}: matches none of anyOf`);
  }
  if (typeOf(value) === 'object') {
    const object = value as Record<string, unknown>;
    for (const key of (schema.required as string[] | undefined) ?? []) if (!(key in object)) out.push(`${at}: ${key} is missing`);
    const properties = (schema.properties as Record<string, Schema> | undefined) ?? {};
    for (const [key, item] of Object.entries(object)) {
      if (properties[key]) check(item, properties[key], file, `${at}.${key}`, out);
      else if (schema.additionalProperties === false) out.push(`${at}: unexpected ${key}`);
    }
  }
  if (Array.isArray(value) && schema.items) value.forEach((item, i) => check(item, schema.items as Schema, file, `${at}[${i}]`, out));
}

/** Problems of VALUE against schemas/host/FILE; empty when it conforms. */
export function hostSchemaProblems(file: string, value: unknown): string[] {
  const out: string[] = [];
  check(value, load(file), file, '$', out);
  return out;
}
