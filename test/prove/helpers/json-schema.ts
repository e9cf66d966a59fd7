/**
 * The subset of JSON Schema (2020-12, as @hono/zod-openapi emits it) the proof suites need to
 * decide whether a generated value is allowed by the published OpenAPI document. It answers
 * "does `value` conform to `schema`?" — nothing more: the suites use it to keep only inputs the
 * API contract itself rejects, so a 2xx answer to one of them is a real finding.
 */
export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  format?: string;
  default?: unknown;
  nullable?: boolean;
}

export type Resolver = (ref: string) => JsonSchema;

const typeOf = (value: unknown): string => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
};

const typeMatches = (value: unknown, type: string): boolean => {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
};

// zod (which generates the document) counts UTF-16 code units, not code points as JSON Schema
// does; judge lengths the way the server does.
const lengthOf = (value: string) => value.length;

export function conforms(value: unknown, schema: JsonSchema, resolve: Resolver): boolean {
  if (schema.$ref) return conforms(value, resolve(schema.$ref), resolve);
  if (schema.anyOf && !schema.anyOf.some((s) => conforms(value, s, resolve))) return false;
  if (schema.oneOf && schema.oneOf.filter((s) => conforms(value, s, resolve)).length !== 1) return false;
  if (schema.allOf && !schema.allOf.every((s) => conforms(value, s, resolve))) return false;
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (schema.nullable) types.push('null');
    if (!types.some((t) => typeMatches(value, t))) return false;
  }
  if (schema.enum && !schema.enum.some((e) => e === value)) return false;
  if ('const' in schema && schema.const !== value) return false;
  if (typeof value === 'string') {
    if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) return false;
    if (schema.minLength !== undefined && lengthOf(value) < schema.minLength) return false;
    if (schema.maxLength !== undefined && lengthOf(value) > schema.maxLength) return false;
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) return false;
    if (schema.maximum !== undefined && value > schema.maximum) return false;
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) return false;
    if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum) return false;
    if (!Number.isFinite(value)) return false;
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) return false;
    if (schema.maxItems !== undefined && value.length > schema.maxItems) return false;
    if (schema.items && !value.every((item) => conforms(item, schema.items!, resolve))) return false;
  }
  if (typeOf(value) === 'object') {
    const object = value as Record<string, unknown>;
    for (const name of schema.required ?? []) if (!(name in object)) return false;
    for (const [name, child] of Object.entries(object)) {
      const declared = schema.properties?.[name];
      if (declared) {
        if (!conforms(child, declared, resolve)) return false;
      } else if (schema.additionalProperties === false) {
        return false;
      } else if (typeof schema.additionalProperties === 'object') {
        if (!conforms(child, schema.additionalProperties, resolve)) return false;
      }
    }
  }
  return true;
}

/** A resolver for `#/components/schemas/X` references of an OpenAPI document. */
export function resolverOf(doc: { components?: { schemas?: Record<string, JsonSchema> } }): Resolver {
  return (ref) => {
    const name = ref.replace('#/components/schemas/', '');
    const schema = doc.components?.schemas?.[name];
    if (!schema) throw new Error(`unresolvable $ref ${ref}`);
    return schema;
  };
}

/** The schema with `$ref`s at the top resolved (one level at a time, as the generators walk). */
export function deref(schema: JsonSchema, resolve: Resolver): JsonSchema {
  return schema.$ref ? deref(resolve(schema.$ref), resolve) : schema;
}
