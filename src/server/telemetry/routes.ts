import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { scopeOf } from '../core/access.js';
import { errors, IdParams, Nullable, Timestamp } from '../core/http/schemas.js';
import { Page, PageQuery } from '../core/pagination.js';
import type { TelemetryService } from './service.js';

const Bucket = Type.Union([Type.Literal('raw'), Type.Literal('1m'), Type.Literal('5m'), Type.Literal('1h'), Type.Literal('1d')]);

export function telemetryRoutes(telemetry: TelemetryService) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    app.get('/api/v1/devices/:id/telemetry', {
      config: { access: 'device.read' },
      schema: {
        tags: ['telemetry'],
        summary: 'A device\'s telemetry: raw values (up to 10,000) or min/avg/max per bucket and metric; hour and day buckets come from rollups',
        params: IdParams,
        querystring: Type.Object({
          from: Type.Optional(Timestamp),
          to: Type.Optional(Timestamp),
          bucket: Type.Optional(Bucket),
          metrics: Type.Optional(Type.String({ maxLength: 1000, description: 'comma-separated metric names' })),
        }),
        response: {
          200: Type.Object({
            bucket: Bucket,
            from: Timestamp,
            to: Timestamp,
            truncated: Type.Optional(Type.Boolean()),
            values: Type.Optional(Type.Array(Type.Object({ ts: Timestamp, metric: Type.String(), value: Type.Number() }))),
            buckets: Type.Optional(Type.Array(Type.Object({
              ts: Timestamp, metric: Type.String(), count: Type.Integer(), min: Type.Number(), max: Type.Number(), avg: Type.Number(),
            }))),
          }),
          ...errors(400, 401, 403, 404),
        },
      },
    }, async (request) => telemetry.query(scopeOf(request), request.params.id, request.query));

    app.get('/api/v1/devices/:id/telemetry/latest', {
      config: { access: 'device.read' },
      schema: {
        tags: ['telemetry'],
        summary: 'The newest value of each of a device\'s telemetry keys, with its type (number, boolean, string, json) and time, by key name',
        params: IdParams,
        querystring: PageQuery,
        response: {
          200: Page(Type.Object({
            key: Type.String(),
            type: Type.Union([Type.Literal('number'), Type.Literal('string'), Type.Literal('json')]),
            value: Type.Unknown({ description: 'As the device sent it' }),
            ts: Timestamp,
          })),
          ...errors(400, 401, 403, 404),
        },
      },
    }, async (request) => telemetry.latest(scopeOf(request), request.params.id, request.query));

    const Seconds = Type.Number({ minimum: 0 });
    app.get('/api/v1/devices/:id/equipment', {
      config: { access: 'device.read' },
      schema: {
        tags: ['telemetry'],
        summary: 'A refrigeration unit\'s derived figures per hour or day: door open, compressor duty cycle, time outside the safe range',
        description: 'Each reading holds until the next one of its metric, for at most 15 minutes. `outsideRangeSeconds` is null '
          + 'without a safe range in the device settings (`safeRange: {min, max}`, °C).',
        params: IdParams,
        querystring: Type.Object({
          from: Type.Optional(Timestamp),
          to: Type.Optional(Timestamp),
          bucket: Type.Optional(Type.Union([Type.Literal('1h'), Type.Literal('1d')])),
        }),
        response: {
          200: Type.Object({
            bucket: Type.String(),
            from: Timestamp,
            to: Timestamp,
            timezone: Type.String({ description: 'The site\'s zone (else the organization\'s): days are its local days' }),
            safeRange: Nullable(Type.Object({ min: Type.Number(), max: Type.Number() })),
            buckets: Type.Array(Type.Object({
              ts: Timestamp,
              date: Type.String({ description: 'The bucket\'s local date (YYYY-MM-DD) in `timezone`' }),
              coveredSeconds: Seconds,
              doorOpenSeconds: Seconds,
              compressorDutyCycle: Nullable(Type.Number({ minimum: 0, maximum: 1 })),
              outsideRangeSeconds: Nullable(Seconds),
              temperatureMin: Nullable(Type.Number()),
              temperatureMax: Nullable(Type.Number()),
            })),
          }),
          ...errors(400, 401, 403, 404),
        },
      },
    }, async (request) => telemetry.equipment(scopeOf(request), request.params.id, request.query));
  };
}
