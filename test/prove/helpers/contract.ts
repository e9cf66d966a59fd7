/**
 * The server against its own `/openapi.json`, with a third-party validator (ajv, JSON Schema
 * 2020-12 as OpenAPI 3.1 uses it): is a status declared for the operation, does the body match
 * the schema declared for that status.
 */
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { OpenApiDocument } from './endpoints';

type Json = Record<string, unknown>;

export interface Contract {
  /**
   * Why `status` + `bodyText` break what the document declares for `method` on `path` (as sent,
   * query string and all), or undefined. A path no operation declares must be a 404 or 405.
   */
  responseProblem(method: string, path: string, status: number, bodyText: string): string | undefined;
  /** Why `value` does not fit `schema` (refs resolved in the document), or undefined. */
  valueProblem(schema: unknown, value: unknown): string | undefined;
}

export function contractOf(doc: OpenApiDocument): Contract {
  const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: true });
  addFormats(ajv);
  const components = (doc as unknown as Json).components;
  const compiled = new Map<unknown, ValidateFunction>();
  const validatorOf = (schema: unknown) => {
    let validate = compiled.get(schema);
    if (!validate) {
      // The document's components travel with each schema so `#/components/...` refs resolve.
      validate = ajv.compile({ ...(schema as Json), components });
      compiled.set(schema, validate);
    }
    return validate;
  };
  const valueProblem = (schema: unknown, value: unknown) => {
    const validate = validatorOf(schema);
    return validate(value) ? undefined : ajv.errorsText(validate.errors);
  };
  // Templates in routing order: a literal segment wins over a parameter (`/health` over `/{version}`).
  const templates = Object.entries(doc.paths)
    .map(([template, item]) => ({
      template,
      item: item as Record<string, Json>,
      pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
      literal: template.replace(/\{[^}]+\}/g, '').length,
    }))
    .sort((a, b) => b.literal - a.literal);
  const operationFor = (method: string, path: string) => {
    // As a URL parser reads the request line (`new URL` would take `//x` for a host).
    const pathname = (path.split(/[?#]/)[0] ?? '').replace(/\\/g, '/');
    const match = templates.find((t) => t.pattern.test(pathname) && t.item[method.toLowerCase()]);
    return (
      match && { opKey: `${method.toUpperCase()} ${match.template}`, op: match.item[method.toLowerCase()]! }
    );
  };
  return {
    valueProblem,
    responseProblem(method, path, status, bodyText) {
      const found = operationFor(method, path);
      if (!found)
        return status === 404 || status === 405
          ? undefined
          : `no operation for ${method} ${path}, yet ${status}`;
      const { opKey, op } = found;
      const responses = op.responses as Record<string, Json>;
      const declared = responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default;
      if (!declared)
        return `status ${status} is not declared for ${opKey} (declared: ${Object.keys(responses).join(', ')})`;
      const schema = (declared.content as Record<string, Json> | undefined)?.['application/json']?.schema;
      if (!schema) return undefined; // no body declared (204, or a status without content)
      let body: unknown;
      try {
        body = JSON.parse(bodyText);
      } catch {
        return `status ${status} of ${opKey} declares JSON, the body is not`;
      }
      const problem = valueProblem(schema, body);
      return problem && `status ${status} of ${opKey}: ${problem}`;
    },
  };
}
