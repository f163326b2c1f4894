import type { FastifyInstance } from 'fastify';
import { credentialsOf, principalOf, scopeOf, type Authenticator } from '../core/access.js';
import type { BusMessage } from '../core/bus.js';
import { errors } from '../core/http/schemas.js';
import { visibleTo, type StreamService } from './service.js';

function frame(message: BusMessage): string {
  return `id: ${message.id}\nevent: ${message.type}\ndata: ${JSON.stringify({ ...message.data, siteId: message.siteId ?? null })}\n\n`;
}

/**
 * `GET /api/v1/stream`: Server-Sent Events of everything the caller may see. A heartbeat comment
 * keeps proxies from closing the connection; at each heartbeat the credentials are checked again,
 * and a revoked session is disconnected at once.
 */
export function streamRoutes(stream: StreamService, authenticator: Authenticator, heartbeatSeconds: number) {
  return async function routes(app: FastifyInstance): Promise<void> {
    // Open streams never end by themselves: shutting down must close them, or the server waits forever.
    const openStreams = new Set<(reason?: string) => void>();
    app.addHook('preClose', async () => {
      for (const close of [...openStreams]) close('server shutting down; reconnect');
    });

    app.get('/api/v1/stream', {
      config: { access: 'stream.read' },
      schema: {
        tags: ['stream'],
        summary: 'Live updates (Server-Sent Events) filtered by your organization, role and sites; resumes from Last-Event-ID',
        response: { ...errors(401, 403) },
      },
    }, async (request, reply) => {
      const principal = principalOf(request);
      const scope = scopeOf(request);
      const credentials = credentialsOf(request);
      const raw = reply.raw;
      reply.hijack();
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-request-id': request.id,
      });
      raw.write(`retry: 3000\n: connected\n\n`);

      const lastEventId = request.headers['last-event-id'];
      if (typeof lastEventId === 'string' && lastEventId !== '') {
        const missed = stream.missedSince(lastEventId, scope);
        if (missed === null) raw.write(`event: reset\ndata: {"reason":"missed events are no longer available; reload"}\n\n`);
        else for (const message of missed) raw.write(frame(message));
      }

      let open = true;
      const close = (reason?: string) => {
        if (!open) return;
        open = false;
        openStreams.delete(close);
        if (reason) raw.write(`event: closed\ndata: ${JSON.stringify({ reason })}\n\n`);
        unsubscribe();
        clearInterval(heartbeat);
        raw.end();
      };
      const unsubscribe = stream.subscribe((message) => {
        if (!open) return;
        if (message.type === 'session.revoked') {
          const revoked = message.data.sessionIds as string[];
          if (principal.sessionId && revoked.includes(principal.sessionId)) close('session revoked');
          return;
        }
        if (visibleTo(message, scope)) raw.write(frame(message));
      });
      const heartbeat = setInterval(() => {
        void authenticator.authenticate(credentials).then(
          (identity) => {
            const same = identity?.scope && identity.scope.orgId === scope.orgId && identity.scope.role === scope.role &&
              JSON.stringify(identity.scope.siteIds) === JSON.stringify(scope.siteIds);
            if (!same) close('access changed; reconnect');
            else if (open) raw.write(': heartbeat\n\n');
          },
          () => undefined,
        );
      }, heartbeatSeconds * 1000);
      openStreams.add(close);
      request.raw.on('close', () => close());
    });
  };
}
