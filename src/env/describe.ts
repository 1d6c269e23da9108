// Reading the schema itself: which keys an object allows, what example a field carries,
// and a whole example document. Error hints, the generated docs and the role contract all
// come from here, so they cannot drift from the schema. Everything is read from zod's
// public JSON Schema output (z.toJSONSchema), never from its internals.
import { z } from 'zod';

/** A node of the JSON Schema zod writes (the subset this project's schema produces). */
export interface JsonNode {
  type?: string;
  description?: string;
  examples?: unknown[];
  default?: unknown;
  const?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  properties?: Record<string, JsonNode>;
  items?: JsonNode;
  /** A record's values (backup.offsite.env); strict objects have `false` here. */
  additionalProperties?: JsonNode | boolean;
  anyOf?: JsonNode[];
  oneOf?: JsonNode[];
}

type Path = readonly PropertyKey[];

const cache = new WeakMap<z.ZodType, JsonNode>();

/** The schema as editors see it: what a user may write (`io: 'input'`), defaults shown. */
export function jsonSchemaOf(schema: z.ZodType): JsonNode {
  let node = cache.get(schema);
  if (!node) {
    node = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonNode;
    cache.set(schema, node);
  }
  return node;
}

const isNull = (node: JsonNode) => node.type === 'null';

/** The branches of a union (null, from nullable, is no branch); a plain node is its own. */
export function branches(node: JsonNode): JsonNode[] {
  const options = node.anyOf ?? node.oneOf;
  return options ? options.filter((o) => !isNull(o)).flatMap(branches) : [node];
}

/** The branch whose constant fields (a discriminator such as `driver`) match `data`. */
function pick(node: JsonNode, data: unknown): JsonNode | undefined {
  const options = branches(node);
  if (data && typeof data === 'object') {
    const values = data as Record<string, unknown>;
    const match = options.find((o) => {
      const constants = Object.entries(o.properties ?? {}).filter(([, field]) => field.const !== undefined);
      return constants.length > 0 && constants.every(([key, field]) => values[key] === field.const);
    });
    if (match) return match;
  }
  // Without a discriminator, an object goes to the object option that has its keys
  // (a secret's {"file"} or {"env"}), so a problem inside it gets that option's example.
  if (data && typeof data === 'object' && !Array.isArray(data)) {
    const keys = Object.keys(data);
    const match = options.find((o) => {
      const shape = o.properties;
      return shape !== undefined && keys.length > 0 && keys.every((k) => k in shape);
    });
    if (match) return match;
  }
  return options[0];
}

function child(node: JsonNode, key: PropertyKey): JsonNode | undefined {
  if (node.type === 'array') return node.items;
  return node.properties?.[String(key)];
}

/** The schema node that validates the value at `path`, choosing union branches by `data`. */
export function schemaAt(root: JsonNode, path: Path, data: unknown): JsonNode | undefined {
  let current: JsonNode | undefined = root;
  let value = data;
  for (const key of path) {
    const chosen: JsonNode | undefined = current && pick(current, value);
    current = chosen && child(chosen, key);
    value = value && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  }
  return current;
}

/** Every node a dotted path can reach, one per union branch that has it (`tracker.core.database.driver`: two). */
export function nodesAt(root: JsonNode, path: string): JsonNode[] {
  let current = [root];
  for (const key of path.split('.')) {
    current = current.flatMap(branches).flatMap((n) => {
      const next = child(n, key);
      return next ? [next] : [];
    });
  }
  return current;
}

/** Paths of the values in `data` whose schema node `match` picks, following objects, lists and unions as `data` goes. */
export function pathsWhere(node: JsonNode, data: unknown, match: (node: JsonNode) => boolean, at: Path = []): Path[] {
  if (data === undefined || data === null) return [];
  if (match(node)) return [at];
  const chosen = pick(node, data);
  if (!chosen) return [];
  if (chosen !== node && match(chosen)) return [at];
  if (typeof data !== 'object') return [];
  const items = chosen.items;
  if (Array.isArray(data)) return items ? data.flatMap((item, i) => pathsWhere(items, item, match, [...at, i])) : [];
  const values = data as Record<string, unknown>;
  const rest = chosen.additionalProperties;
  if (!chosen.properties && typeof rest === 'object') {
    return Object.keys(values).flatMap((key) => pathsWhere(rest, values[key], match, [...at, key]));
  }
  return Object.entries(chosen.properties ?? {}).flatMap(([key, field]) => pathsWhere(field, values[key], match, [...at, key]));
}

/** Keys an object schema allows, for "did you mean" hints. */
export function keysOf(node: JsonNode | undefined, data: unknown): string[] {
  const chosen = node && pick(node, data);
  return Object.keys(chosen?.properties ?? {});
}

/**
 * An example value for a schema: the field's own example, or for objects one built
 * from their fields' examples. Fields without an example (the deployer's sections we
 * do not read) are left out.
 */
export function exampleOf(node: JsonNode): unknown {
  if (node.examples && node.examples.length > 0) return node.examples[0];
  const chosen = branches(node)[0];
  if (!chosen || chosen !== node) return chosen && exampleOf(chosen);
  if (node.const !== undefined) return node.const;
  if (node.properties) {
    const out: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(node.properties)) {
      const value = exampleOf(field);
      if (value !== undefined) out[key] = value;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  if (node.type === 'array' && node.items) {
    const item = exampleOf(node.items);
    return item === undefined ? undefined : [item];
  }
  return undefined;
}
