/** One problem with one field of a request, e.g. `{ field: 'traces[3].trace_name', message }`. */
export interface FieldIssue {
  field: string;
  message: string;
}

/**
 * A failure with a CTS error code. Domain code throws these; the HTTP layer maps them to
 * `{ error_code, error_msg, details? }` with `status` in one place.
 */
export class CtsError extends Error {
  override name = 'CtsError';
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 500 | 503,
    readonly code: string,
    message: string,
    readonly details?: FieldIssue[],
  ) {
    super(message);
  }
}

export const invalidRequest = (details: FieldIssue[], message = 'The message body is empty or invalid.') =>
  new CtsError(400, 'CTS.0003', message, details);

export const badField = (field: string, message: string) =>
  invalidRequest([{ field, message }], `Invalid ${field}: ${message}`);

export const notFound = (code: string, message: string) => new CtsError(404, code, message);
