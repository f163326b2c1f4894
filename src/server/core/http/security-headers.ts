import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * Helmet's security headers, computed once. Running the helmet middleware on every request (as the
 * Fastify plugin does) cost more than half of an authenticated API request's CPU here (bench: 6.4K
 * vs 14.1K req/s for GET /api/v1/auth/me), and the headers never change between requests.
 */
export function securityHeaders(options: Readonly<HelmetOptions>): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader(name: string, value: string | number | string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  let finished = false;
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
    finished = true;
  });
  if (!finished) throw new Error('helmet did not finish synchronously');
  return headers;
}

/**
 * The CSP source that lets the console's map load tiles from a `{z}/{x}/{y}` URL template: its origin,
 * with a `{s}` subdomain placeholder as a wildcard (`https://{s}.tile.example.org` → `https://*.tile.example.org`).
 * Needed for http tile servers (a local one on the operator's network); https ones are allowed anyway.
 */
export function tileImageSource(template: string): string {
  // Only host characters, so an odd template cannot smuggle another directive into the policy.
  const match = /^(https?:\/\/[\w.\-{}:[\]]+)(?=[/?#]|$)/i.exec(template);
  return (match?.[1] ?? "'self'").replace(/\{s\}/g, '*').toLowerCase();
}
