import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { AppContext } from '../core/context.js';
import { ping } from '../core/db/database.js';
import { errors } from '../core/http/schemas.js';

/** Liveness, readiness and Prometheus metrics. */
export function healthRoutes(ctx: AppContext) {
  return async function routes(app: FastifyInstance): Promise<void> {
    // RushRoster devices' settings page tests its connection by fetching /health from the browser.
    app.get('/health', {
      config: { access: 'public' },
      schema: { tags: ['operations'], summary: 'Liveness: the process answers', response: { 200: Type.Object({ status: Type.String() }) } },
    }, async (_request, reply) => {
      reply.header('access-control-allow-origin', '*');
      reply.header('cross-origin-resource-policy', 'cross-origin');
      return { status: 'ok' };
    });

    app.get('/ready', {
      config: { access: 'public' },
      schema: { tags: ['operations'], summary: 'Readiness: the database answers', response: { 200: Type.Object({ status: Type.String() }), ...errors(503) } },
    }, async (_request, reply) => {
      try {
        await ping(ctx.db);
        return { status: 'ready' };
      } catch {
        return reply.code(503).send({ error: { code: 'not_ready', message: 'database unreachable' } });
      }
    });

    app.get('/metrics', {
      config: { access: 'public' },
      schema: { tags: ['operations'], summary: 'Prometheus metrics' },
    }, async (_request, reply) => {
      reply.type(ctx.metrics.registry.contentType);
      return ctx.metrics.registry.metrics();
    });
  };
}
