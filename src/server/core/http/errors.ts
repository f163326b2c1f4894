/**
 * The one error shape of the API: `{ "error": { "code", "message", "details" } }`.
 * Services throw `AppError`s; the error handler in `app.ts` renders them.
 */
export interface FieldError {
  field: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: FieldError[] | Record<string, unknown>,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, details?: FieldError[]) => new AppError(400, 'bad_request', message, details);
export const invalidFields = (details: FieldError[]) =>
  new AppError(400, 'validation_failed', details.map((d) => `${d.field}: ${d.message}`).join('; '), details);
export const unauthorized = (message = 'authentication required') => new AppError(401, 'unauthorized', message);
export const forbidden = (message = 'you are not allowed to do this') => new AppError(403, 'forbidden', message);
export const notFound = (what = 'resource') => new AppError(404, 'not_found', `${what} not found`);
export const conflict = (message: string, details?: FieldError[]) => new AppError(409, 'conflict', message, details);
/** 429 with Retry-After; `jitterSeconds` spreads clients that were refused together so they do not all return at once. */
export const tooManyRequests = (baseSeconds: number, jitterSeconds = 0) => {
  const retryAfterSeconds = baseSeconds + Math.floor(Math.random() * (jitterSeconds + 1));
  return rateLimited(retryAfterSeconds);
};

const rateLimited = (retryAfterSeconds: number) =>
  new AppError(429, 'rate_limited', `too many requests; retry in ${retryAfterSeconds} s`, { retryAfterSeconds }, {
    'retry-after': String(retryAfterSeconds),
  });
