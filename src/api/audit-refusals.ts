import type { AuditedOperation } from '../domain/traces/audit';
import { recordAudit } from '../domain/traces/audit';
import { actorOf, type Middleware } from './http';

/**
 * Records a refused management call (4xx) as a `warning` trace with its outcome code, when the
 * operation itself did not (it records the refusals it decides; this covers those decided before
 * it runs: role, body limit, validation). A caller whose key did not authenticate is not
 * recorded: there is no principal to name, and anyone could fill the trail that way. The trace
 * goes to the caller's own project (a key of another project cannot write into this one's).
 */
export function auditRefusals(operation: Pick<AuditedOperation, 'traceName' | 'resourceType'>): Middleware {
  return async (c, next) => {
    await next();
    const status = c.res.status;
    if (status < 400 || status >= 500 || c.get('audited') || !c.get('principal')) return;
    let response: { error_code?: unknown; error_msg?: unknown } | undefined;
    try {
      const body = (await c.res.clone().json()) as { error_code?: unknown; error_msg?: unknown };
      response = { error_code: body.error_code, error_msg: body.error_msg };
    } catch {
      response = undefined; // not a CTS error body: the code says enough
    }
    try {
      await recordAudit(c.get('deps'), actorOf(c), {
        ...operation,
        resourceName: c.req.param('topic_name') ?? c.req.query('tracker_name'),
        rating: 'warning',
        code: status,
        response,
      });
    } catch (error) {
      // The refusal stays the answer; a trail that cannot be written is an operator's alarm.
      c.get('deps').logger.error('refusal not recorded', {
        requestId: c.get('requestId'),
        error: String(error),
      });
    }
  };
}
