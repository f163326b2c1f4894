import type { FastifyRequest } from 'fastify';
import { stdSerializers } from 'pino';

/**
 * One-time secrets travel in URLs: setup, invitation and password-reset links carry `?token=`, a
 * RushRoster upload URL carries its signed token in the path, and a public photo link is an opaque token.
 * Whoever reads the access log must not be able to replay them, so every request and error line goes
 * through here. Headers (cookies, API keys, bearer tokens, CSRF tokens) are never logged at all.
 */
const REDACTED = '[redacted]';

/** Query parameters whose values are credentials. */
const SECRET_PARAMS = ['token', 'signature', 'sig', 'key', 'api_key', 'apikey', 'access_token', 'password', 'secret', 'invitationToken'];
const SECRET_QUERY = new RegExp(`([?&](?:${SECRET_PARAMS.join('|')})=)[^&#\\s"']*`, 'gi');

/** Paths whose last segment is itself the credential. */
const SECRET_SEGMENT = /(\/api\/ingest\/v1\/photo-uploads\/|\/api\/v1\/public\/photos\/)[^/?#\s"']+/g;

/** ThingsBoard's HTTP device API puts the device key in the path: `/api/v1/{key}/telemetry`, `/attributes`, `/rpc…`. */
const DEVICE_KEY_SEGMENT = /(\/api\/v1\/)(?!ingest\/)[^/?#\s"']+(?=\/(?:telemetry|attributes|rpc)(?:[/?#\s"']|$))/g;

/** A user name and password inside an address (`rtsp://user:pass@camera`). */
const USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^/@\s"']+@/gi;

/** The text with every URL secret Vigil hands out replaced by "[redacted]"; the rest is kept for diagnosis. */
export function redactSecrets(text: string): string {
  return text
    .replace(SECRET_QUERY, `$1${REDACTED}`)
    .replace(SECRET_SEGMENT, `$1${REDACTED}`)
    .replace(DEVICE_KEY_SEGMENT, `$1${REDACTED}`)
    .replace(USERINFO, `$1${REDACTED}@`);
}

/** Fastify's request serializer (method, url, host, client address) with the URL's secrets removed. */
function request(req: FastifyRequest) {
  return {
    method: req.method,
    url: redactSecrets(req.url),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

/** pino's error serializer; messages and stacks may quote a URL (Fastify's "reply already sent" does). */
function error(err: Error) {
  const serialized = stdSerializers.err(err) as unknown as Record<string, unknown>;
  for (const field of ['message', 'stack'] as const) {
    if (typeof serialized[field] === 'string') serialized[field] = redactSecrets(serialized[field]);
  }
  return serialized;
}

/** Serializers for the HTTP server's logger: they take precedence over Fastify's own. */
export const requestLogSerializers = { req: request, err: error };
