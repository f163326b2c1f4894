/**
 * The console's only way to the API: same-origin requests with the session cookie, the CSRF header on
 * writes, errors as ApiError with the server's message. A 401 hands over to the unauthorized handler
 * (the app sends the user to /login?next=… and back after sign-in).
 */

export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: FieldError[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The message for one form field, when the server named it. */
  fieldMessage(field: string): string | undefined {
    return this.details.find((d) => d.field === field)?.message;
  }
}

export const API_BASE = '/api/v1';

export type QueryValue = string | number | boolean | null | undefined;

/** `/api/v1{path}?{query}`, leaving out empty values and `false` flags. */
export function apiUrl(path: string, query: Record<string, QueryValue> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '' || value === false) continue;
    params.set(key, String(value));
  }
  const search = params.toString();
  return `${API_BASE}${path}${search ? `?${search}` : ''}`;
}

let csrfToken: string | null = null;
let unauthorizedHandler: (() => void) | null = null;

/** Remembers the session's CSRF token (from sign-in and GET /auth/me) for later writes. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** The session's CSRF token, for the one write that cannot go through api() (an upload with progress). */
export function currentCsrfToken(): string | null {
  return csrfToken;
}

export function setUnauthorizedHandler(handler: (() => void) | null): void {
  unauthorizedHandler = handler;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  query?: Record<string, QueryValue>;
  body?: unknown;
  signal?: AbortSignal;
  /** false: a 401 is only thrown (sign-in, the session probe), not turned into a trip to the sign-in page. */
  redirectOn401?: boolean;
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(path, options);
  if (response.status === 403 && options.method && options.method !== 'GET') {
    // The CSRF token can be stale (signed in again in another tab): fetch the current one and retry once.
    const error = await toError(response);
    if (!/csrf/i.test(error.message)) throw error;
    const me = await send('/auth/me', { redirectOn401: false });
    if (!me.ok) throw error;
    setCsrfToken(((await me.json()) as { csrfToken: string | null }).csrfToken);
    return parse<T>(await send(path, options), options);
  }
  return parse<T>(response, options);
}

async function send(path: string, options: RequestOptions): Promise<Response> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  // A FormData body (file upload) sets its own multipart content type.
  const form = options.body instanceof FormData;
  if (options.body !== undefined && !form) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  try {
    return await fetch(apiUrl(path, options.query), {
      method,
      headers,
      body: options.body === undefined ? undefined : form ? (options.body as FormData) : JSON.stringify(options.body),
      credentials: 'same-origin',
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(0, 'network', 'The server could not be reached. Check your connection and try again.');
  }
}

async function parse<T>(response: Response, options: RequestOptions): Promise<T> {
  if (response.ok) {
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }
  const error = await toError(response);
  if (error.status === 401 && options.redirectOn401 !== false) unauthorizedHandler?.();
  throw error;
}

async function toError(response: Response): Promise<ApiError> {
  let code = 'http_error';
  let message = `The server answered ${response.status} ${response.statusText}`.trim();
  let details: FieldError[] = [];
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string; details?: unknown } };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
    if (Array.isArray(body.error?.details)) details = body.error.details as FieldError[];
  } catch {
    // Not JSON (a proxy's error page): keep the status line.
  }
  if (response.status === 429) {
    const retryAfter = Number(response.headers.get('retry-after'));
    if (retryAfter > 0) message = `Too many attempts. Try again in ${retryAfter >= 120 ? `${Math.ceil(retryAfter / 60)} minutes` : `${retryAfter} seconds`}`;
  }
  return new ApiError(response.status, code, sentence(message), details);
}

/** The server's messages are lower-case phrases ("email or password is incorrect"); shown as sentences. */
function sentence(message: string): string {
  const text = message.trim();
  if (!text) return text;
  return `${text[0]!.toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? '' : '.'}`;
}
