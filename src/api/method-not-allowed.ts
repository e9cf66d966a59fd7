import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './http';

interface DeclaredPath {
  pattern: RegExp;
  methods: string[];
}

/** `/v3/{project_id}/traces` → a pattern matching one path segment per parameter. */
function patternOf(path: string): RegExp {
  const escaped = path
    .split(/\{[^}]+\}/)
    .map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))
    .join('[^/]+');
  return new RegExp(`^${escaped}$`);
}

/**
 * The methods the OpenAPI document declares for a request path (empty when it declares none):
 * a wrong method on a real path is a 405 with `Allow`, not a 404. Read from the registry on
 * first use, once every route is declared.
 */
export function declaredMethods(app: OpenAPIHono<AppEnv>): (path: string) => string[] {
  let paths: DeclaredPath[] | undefined;
  return (path) => {
    if (!paths) {
      const byPath = new Map<string, Set<string>>();
      for (const definition of app.openAPIRegistry.definitions) {
        if (definition.type !== 'route') continue;
        const { path: declared, method } = definition.route;
        const methods = byPath.get(declared) ?? new Set<string>();
        methods.add(method.toUpperCase());
        if (method === 'get') methods.add('HEAD'); // answered like GET
        byPath.set(declared, methods);
      }
      paths = [...byPath].map(([declared, methods]) => ({
        pattern: patternOf(declared),
        methods: [...methods],
      }));
    }
    const allowed = new Set(paths.filter((p) => p.pattern.test(path)).flatMap((p) => p.methods));
    return [...allowed].sort();
  };
}
