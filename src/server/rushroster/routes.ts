import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { deviceOf } from '../core/access.js';
import { AppError } from '../core/http/errors.js';
import type { RushRosterService } from './service.js';

const KEY_FORMAT = /^rushroster_[0-9a-f]{64}$/;

/**
 * RushRoster devices read `{"detail": …}` errors with the original status codes (FastAPI's): a missing
 * key or a malformed envelope is 422, a bad key 401 with the original wording.
 */
function compatibleErrors(error: FastifyError | AppError, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof AppError && error.status === 401) {
    const key = request.headers['x-api-key'];
    if (!key) return reply.code(422).send({ detail: [{ loc: ['header', 'x-api-key'], msg: 'Field required', type: 'missing' }] });
    return reply.code(401).send({ detail: typeof key === 'string' && KEY_FORMAT.test(key) ? 'Invalid or expired API key' : 'Invalid API key format' });
  }
  if (error instanceof AppError) {
    if (error.headers) reply.headers(error.headers);
    return reply.code(error.status === 400 ? 422 : error.status).send({ detail: error.message });
  }
  if ((error as FastifyError).validation || (error as FastifyError).statusCode === 400) {
    return reply.code(422).send({ detail: error.message });
  }
  const status = (error as FastifyError).statusCode ?? 500;
  if (status >= 500) request.log.error({ err: error }, 'unhandled error');
  return reply.code(status).send({ detail: status >= 500 ? 'Internal server error' : error.message });
}

export function rushRosterRoutes(rushroster: RushRosterService) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    app.setErrorHandler(compatibleErrors);
    // These endpoints speak only to RushRoster radars: another device kind's key is not theirs to use.
    app.addHook('onRequest', async (request) => {
      const key = request.headers['x-api-key'];
      if (typeof key === 'string' && !KEY_FORMAT.test(key)) throw new AppError(401, 'unauthorized', 'Invalid API key format');
    });
    const tags = ['rushroster'];
    const security = [{ deviceKey: [] }];

    app.post('/api/ingest/v1/events', {
      config: { access: 'device' },
      schema: {
        tags,
        security,
        summary: 'RushRoster device upload (wire-compatible): up to 1,000 events; invalid events are skipped and reported in "rejected"',
        body: Type.Object({ events: Type.Array(Type.Unknown(), { minItems: 1, maxItems: 1000 }) }),
      },
    }, async (request) => rushroster.upload(deviceOf(request), request.body.events));

    app.get('/api/ingest/v1/events', {
      config: { access: 'device' },
      schema: {
        tags,
        security,
        summary: 'RushRoster restore: the device\'s events, newest first',
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer()),
          offset: Type.Optional(Type.Integer()),
          speeding_only: Type.Optional(Type.Boolean()),
        }),
      },
    }, async (request) => rushroster.restore(deviceOf(request), request.query));

    app.post('/api/ingest/v1/heartbeat', {
      config: { access: 'device' },
      schema: { tags, security, summary: 'RushRoster heartbeat', body: Type.Optional(Type.Object({ timestamp: Type.Optional(Type.String()), status: Type.Optional(Type.Unknown()) })) },
    }, async (request) => ({ status: 'success', message: `Heartbeat received from device ${deviceOf(request).serial}` }));

    app.get('/api/ingest/v1/device/info', {
      config: { access: 'device' },
      schema: { tags, security, summary: 'RushRoster device information' },
    }, async (request) => rushroster.info(deviceOf(request)));

    app.get('/api/ingest/v1/device/stats', {
      config: { access: 'device' },
      schema: { tags, security, summary: 'RushRoster device statistics over the last hours', querystring: Type.Object({ hours: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 * 366 })) }) },
    }, async (request) => rushroster.stats(deviceOf(request), request.query.hours ?? 24));
  };
}
