import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { readingFromPrimary, type ReadReplica } from './replica.js';

/** Set on a browser that just wrote, so that another server process behind the load balancer also reads its writes. */
export const READ_PRIMARY_COOKIE = 'vigil_read_primary';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The signed-in session (cookie) or script (bearer token) behind a request; devices and anonymous callers have none. */
function sessionKey(request: FastifyRequest): string | undefined {
  const credential = request.cookies?.vigil_session ?? request.headers.authorization;
  return credential ? createHash('sha256').update(credential).digest('base64url') : undefined;
}

/**
 * Read-your-writes: a request that changes something (any method but GET, HEAD, OPTIONS) of a signed-in
 * session marks that session, and its requests in the next `readYourWritesMs` read from the primary, so the
 * page shown after a user's own change shows it even while the replica trails. The mark is kept in this
 * process (scripts with a bearer token) and as a short-lived cookie (a browser whose next request lands
 * on another server process).
 */
export function readYourWrites(replica: ReadReplica, secureCookie: boolean) {
  return {
    /** After the cookie parser: the rest of the request runs with primary reads when its session wrote recently. */
    onRequest(request: FastifyRequest, _reply: FastifyReply, done: () => void) {
      const key = sessionKey(request);
      if (request.cookies?.[READ_PRIMARY_COOKIE] || (key && replica.wroteRecently(key))) readingFromPrimary(done);
      else done();
    },
    /** Before the response leaves, so the client's next request already finds the mark. */
    async onSend(request: FastifyRequest, reply: FastifyReply) {
      if (SAFE_METHODS.has(request.method)) return;
      const key = sessionKey(request);
      if (!key) return;
      replica.markWrite(key);
      const seconds = Math.ceil(replica.readYourWritesMs / 1000);
      reply.header('set-cookie', `${READ_PRIMARY_COOKIE}=1; Max-Age=${seconds}; Path=/; HttpOnly; SameSite=Lax${secureCookie ? '; Secure' : ''}`);
    },
  };
}
