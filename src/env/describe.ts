// Reading the schema itself: which keys an object allows, what example a field carries,
// and a whole example document. Error hints and the generated docs both come from here,
// so they cannot drift from the schema.
import type { z } from 'zod';

type Any = z.ZodType;
type Path = readonly PropertyKey[];

interface Def {
  type: string;
  shape?: Record<string, Any>;
  innerType?: Any;
  element?: Any;
  options?: Any[];
  discriminator?: string;
  values?: unknown[];
  in?: Any;
}

function def(schema: Any): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

interface Meta {
  description?: string;
  examples?: unknown[];
}

function meta(schema: Any): Meta | undefined {
  return (schema as unknown as { meta(): Meta | undefined }).meta();
}

const WRAPPERS = new Set(['optional', 'default', 'nullable', 'readonly', 'prefault']);

/** The schema with optional/default/nullable wrappers removed, and the metadata seen on the way. */
function unwrap(schema: Any): { core: Any; meta: Meta } {
  let current = schema;
  let found: Meta = { ...meta(current) };
  for (;;) {
    const d = def(current);
    if (WRAPPERS.has(d.type) && d.innerType) current = d.innerType;
    else if (d.type === 'pipe' && d.in) current = d.in;
    else break;
    found = { ...meta(current), ...found };
  }
  return { core: current, meta: found };
}

function pickUnionOption(d: Def, data: unknown): Any | undefined {
  const options = d.options ?? [];
  if (d.discriminator && data && typeof data === 'object') {
    const wanted = (data as Record<string, unknown>)[d.discriminator];
    const match = options.find((o) => {
      const field = def(unwrap(o).core).shape?.[d.discriminator as string];
      return field !== undefined && (def(unwrap(field).core).values ?? []).includes(wanted);
    });
    if (match) return match;
  }
  // Without a discriminator, an object goes to the object option that has its keys
  // (a secret's {"file"} or {"env"}), so a problem inside it gets that option's example.
  if (data && typeof data === 'object' && !Array.isArray(data)) {
    const keys = Object.keys(data);
    const match = options.find((o) => {
      const shape = def(unwrap(o).core).shape;
      return shape !== undefined && keys.length > 0 && keys.every((k) => k in shape);
    });
    if (match) return match;
  }
  return options[0];
}

/** The schema that validates the value at `path`, choosing union branches by `data`. */
export function schemaAt(root: Any, path: Path, data: unknown): Any | undefined {
  let current: Any | undefined = root;
  let value = data;
  for (const key of path) {
    if (!current) return undefined;
    let { core } = unwrap(current);
    if (def(core).type === 'union') core = pickUnionOption(def(core), value) ?? core;
    const d = def(unwrap(core).core);
    if (d.type === 'object') current = d.shape?.[String(key)];
    else if (d.type === 'array') current = d.element;
    else return undefined;
    value = value && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  }
  return current;
}

/** Paths of the values in `data` whose schema `match` picks, following objects, lists and unions as `data` goes. */
export function pathsWhere(schema: Any, data: unknown, match: (schema: Any) => boolean, at: Path = []): Path[] {
  if (data === undefined || data === null) return [];
  const { core } = unwrap(schema);
  if (match(schema) || match(core)) return [at];
  if (def(core).type === 'union') {
    const option = pickUnionOption(def(core), data);
    return option ? pathsWhere(option, data, match, at) : [];
  }
  const d = def(core);
  if (typeof data !== 'object') return [];
  if (d.type === 'array' && d.element && Array.isArray(data)) {
    const element = d.element;
    return data.flatMap((item, i) => pathsWhere(element, item, match, [...at, i]));
  }
  if (d.type === 'object' && d.shape) {
    return Object.entries(d.shape).flatMap(([key, field]) => pathsWhere(field, (data as Record<string, unknown>)[key], match, [...at, key]));
  }
  return [];
}

/** Keys an object schema allows, for "did you mean" hints. */
export function keysOf(schema: Any | undefined, data: unknown): string[] {
  if (!schema) return [];
  let { core } = unwrap(schema);
  if (def(core).type === 'union') core = pickUnionOption(def(core), data) ?? core;
  return Object.keys(def(unwrap(core).core).shape ?? {});
}

export function descriptionOf(schema: Any): string | undefined {
  return unwrap(schema).meta.description;
}

/**
 * An example value for a schema: the field's own example, or for objects one built
 * from their fields' examples. Fields without an example (the deployer's sections we
 * do not read) are left out.
 */
export function exampleOf(schema: Any): unknown {
  const { core, meta: m } = unwrap(schema);
  if (m.examples && m.examples.length > 0) return m.examples[0];
  const d = def(core);
  if (d.type === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(d.shape ?? {})) {
      const value = exampleOf(field);
      if (value !== undefined) out[key] = value;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  if (d.type === 'union') return d.options?.[0] ? exampleOf(d.options[0]) : undefined;
  if (d.type === 'literal') return d.values?.[0];
  if (d.type === 'array' && d.element) {
    const item = exampleOf(d.element);
    return item === undefined ? undefined : [item];
  }
  return undefined;
}
