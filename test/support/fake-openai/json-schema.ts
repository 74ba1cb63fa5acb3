/**
 * The simplest JSON value a JSON schema accepts, for the fake model's structured outputs and function
 * call arguments: the required properties of an object (recursively), strings "x", numbers 1 (or the
 * minimum), booleans true, arrays [], the first enum value or `anyOf` branch. `$ref`s into `$defs` /
 * `definitions` are followed.
 */
type Schema = Record<string, unknown>;

const MAX_DEPTH = 16;

export function sampleOf(schema: unknown, root: unknown = schema, depth = 0): unknown {
  if (schema === null || typeof schema !== 'object' || depth > MAX_DEPTH) return null;
  const s = schema as Schema;
  if (typeof s.$ref === 'string') return sampleOf(resolveRef(s.$ref, root), root, depth + 1);
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  const branches = (s.anyOf ?? s.oneOf ?? s.allOf) as unknown[] | undefined;
  if (Array.isArray(branches) && branches.length > 0) {
    const branch = branches.find((b) => (b as Schema)?.type !== 'null') ?? branches[0];
    return sampleOf(branch, root, depth + 1);
  }
  const types = Array.isArray(s.type) ? (s.type as unknown[]) : [s.type];
  const type = types.find((t) => t !== 'null') ?? types[0];
  switch (type) {
    case 'string':
      return 'x';
    case 'integer':
    case 'number':
      return typeof s.minimum === 'number' && s.minimum > 1 ? Math.ceil(s.minimum) : 1;
    case 'boolean':
      return true;
    case 'null':
      return null;
    case 'array':
      return [];
    default: {
      if (type !== 'object' && s.properties === undefined) return type === undefined ? {} : null;
      const properties = (s.properties ?? {}) as Record<string, unknown>;
      const required = Array.isArray(s.required) ? (s.required as string[]) : [];
      const value: Record<string, unknown> = {};
      for (const name of required) value[name] = sampleOf(properties[name] ?? {}, root, depth + 1);
      return value;
    }
  }
}

function resolveRef(ref: string, root: unknown): unknown {
  if (!ref.startsWith('#/')) return {};
  let node: unknown = root;
  for (const part of ref.slice(2).split('/')) {
    node = (node as Schema | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node ?? {};
}
