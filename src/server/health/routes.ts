import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { AppContext } from '../core/context.js';
import { ping } from '../core/db/database.js';
import { AppError, notFound } from '../core/http/errors.js';
import { errors } from '../core/http/schemas.js';
import { safeEqual } from '../core/tokens.js';

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

    // Metrics name routes, queues and error rates: only for the operator's scraper. Off (404) unless the
    // operator sets METRICS_TOKEN (sent as a Bearer token) or METRICS_PUBLIC=true.
    app.get('/metrics', {
      config: { access: 'public' },
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics: with METRICS_TOKEN as a Bearer token; 404 when neither METRICS_TOKEN nor METRICS_PUBLIC is set',
        response: errors(401, 404),
      },
    }, async (request, reply) => {
      const { metricsToken, metricsPublic } = ctx.config;
      if (!metricsPublic) {
        if (!metricsToken) throw notFound('page');
        const given = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
        if (!given || !safeEqual(given, metricsToken)) {
          throw new AppError(401, 'unauthorized', 'send the METRICS_TOKEN as "Authorization: Bearer <token>"', undefined, { 'www-authenticate': 'Bearer realm="metrics"' });
        }
      }
      reply.type(ctx.metrics.registry.contentType);
      return ctx.metrics.registry.metrics();
    });
  };
}
