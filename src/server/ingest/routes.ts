import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { deviceOf } from '../core/access.js';
import type { Config } from '../core/config.js';
import { errors } from '../core/http/schemas.js';
import { ingestBodyLimitBytes, type IngestService } from './service.js';

const Rejected = Type.Array(Type.Object({
  index: Type.Integer(),
  errors: Type.Array(Type.Object({ field: Type.String(), message: Type.String() })),
}));

const ItemsNote = 'Timestamps are ISO 8601; one without an offset is read in the time zone of the device\'s site (else its organization).';

export function ingestRoutes(ingest: IngestService, config: Config) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['ingest'];
    const bodyLimit = ingestBodyLimitBytes(config);

    app.post('/api/v1/ingest/events', {
      config: { access: 'device' },
      bodyLimit,
      schema: {
        tags,
        summary: 'Send a batch of events (device key in X-API-Key); valid items are stored, invalid ones reported by index',
        description: `${ItemsNote} Each item: {client_ref?, ts, kind?, speed?, speed_limit?, severity?, attributes?}. Resending stores nothing new and returns the same ids.`,
        security: [{ deviceKey: [] }],
        body: Type.Object({ events: Type.Array(Type.Unknown()) }),
        response: {
          200: Type.Object({
            accepted: Type.Integer(),
            duplicates: Type.Integer(),
            rejected: Rejected,
            events: Type.Array(Type.Object({ index: Type.Integer(), id: Type.String(), duplicate: Type.Boolean() })),
          }),
          ...errors(400, 401, 413, 422, 429),
        },
      },
    }, async (request) => ingest.ingestEvents(deviceOf(request), request.body.events));

    app.post('/api/v1/ingest/telemetry', {
      config: { access: 'device' },
      bodyLimit,
      schema: {
        tags,
        summary: 'Send a batch of telemetry readings (device key in X-API-Key)',
        description: `${ItemsNote} Each item: {ts?, values: {key: number | boolean | string | object | array}}; without ts, the time received (distinct per reading). `
          + 'A key refused on its own (a string or JSON over 8 KB, null, a bad name) is listed under its item in `rejected`; the other keys are stored. '
          + 'A resent reading (same device, key and time) is a duplicate.',
        security: [{ deviceKey: [] }],
        body: Type.Object({ items: Type.Array(Type.Unknown()) }),
        response: {
          200: Type.Object({ accepted: Type.Integer(), duplicates: Type.Integer(), rejected: Rejected, values: Type.Integer() }),
          ...errors(400, 401, 413, 422, 429),
        },
      },
    }, async (request) => ingest.ingestTelemetry(deviceOf(request), request.body.items));
  };
}
