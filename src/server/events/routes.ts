import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { scopeOf } from '../core/access.js';
import { PageQuery, Page } from '../core/pagination.js';
import { errors, Nullable, NoContent, NullableTimestamp, Timestamp, Uuid } from '../core/http/schemas.js';
import { requestActor } from '../audit/service.js';
import type { EventPhotosService } from './photos.js';
import { ACK_MAX_IDS, type EventsService } from './service.js';


const Event = Type.Object({
  id: Type.String(),
  deviceId: Uuid,
  deviceName: Type.String(),
  siteId: Nullable(Uuid),
  ts: Timestamp,
  deviceTs: Nullable(Type.String()),
  kind: Type.String(),
  speed: Nullable(Type.Number()),
  speedLimit: Nullable(Type.Number()),
  speeding: Type.Boolean(),
  severity: Nullable(Type.String()),
  attributes: Type.Record(Type.String(), Type.Unknown()),
  photoUrl: Nullable(Type.String()),
  receivedAt: NullableTimestamp,
  acknowledgement: Nullable(Type.Object({
    at: Timestamp, userId: Nullable(Uuid), by: Type.String({ description: 'who acknowledged it (their email)' }), comment: Nullable(Type.String()),
  }, { description: 'the first acknowledgement; null while nobody has acknowledged the event' })),
  violation: Type.Optional(Type.Object({
    startedAt: Timestamp, lastSeenAt: Timestamp, endedAt: NullableTimestamp,
  }, { description: 'safety violations (ppe_violation, zone_breach): the incident\'s start, last sighting and end (null while it lasts)' })),
});

const Filter = Type.Object({
  deviceId: Type.Optional(Uuid),
  siteId: Type.Optional(Uuid),
  kind: Type.Optional(Type.String({ maxLength: 200, description: 'one kind, or several separated by commas ("ppe_violation,zone_breach")' })),
  severity: Type.Optional(Type.String({ maxLength: 50, description: 'e.g. critical, major, minor' })),
  from: Type.Optional(Timestamp),
  to: Type.Optional(Timestamp),
  speedingOnly: Type.Optional(Type.Boolean()),
  hasPhoto: Type.Optional(Type.Boolean()),
  acknowledged: Type.Optional(Type.Boolean()),
});
const Comment = Type.Optional(Nullable(Type.String({ maxLength: 1000, description: 'what was done about it' })));
const AckResult = Type.Object({
  acknowledged: Type.Array(Type.String(), { description: 'ids acknowledged by this request' }),
  alreadyAcknowledged: Type.Integer({ description: 'ids skipped: acknowledged before (the first acknowledgement stands)' }),
  notFound: Type.Integer({ description: 'ids skipped: no such event you may see' }),
});
const EventId = Type.Object({ id: Type.Integer({ minimum: 1 }) });

export function eventRoutes(events: EventsService, photos: EventPhotosService) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['events'];

    app.get('/api/v1/events', {
      config: { access: 'event.read' },
      schema: { tags, summary: 'Events you may see, newest first', querystring: Type.Intersect([PageQuery, Filter]), response: { 200: Page(Event), ...errors(400, 401, 403) } },
    }, async (request) => events.list(scopeOf(request), request.query));

    app.get('/api/v1/events/summary', {
      config: { access: 'event.read' },
      schema: {
        tags,
        summary: 'Event and speeding counts over a range (default the last 24 h), from the hourly rollups',
        querystring: Type.Object({ from: Type.Optional(Timestamp), to: Type.Optional(Timestamp), deviceId: Type.Optional(Uuid), siteId: Type.Optional(Uuid) }),
        response: {
          200: Type.Object({ from: Timestamp, to: Timestamp, events: Type.Integer(), speeding: Type.Integer(), devices: Type.Integer() }),
          ...errors(400, 401, 403),
        },
      },
    }, async (request) => events.summary(scopeOf(request), request.query));

    app.get('/api/v1/events.csv', {
      config: { access: 'event.read' },
      schema: { tags, summary: 'Every event matching the filter as CSV (streamed)', querystring: Filter },
    }, async (request, reply) => {
      const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="events-${stamp}.csv"`)
        .send(events.exportCsv(scopeOf(request), request.query));
    });

    app.get('/api/v1/events/:id', {
      config: { access: 'event.read' },
      schema: { tags, summary: 'One event', params: EventId, response: { 200: Event, ...errors(401, 403, 404) } },
    }, async (request) => events.get(scopeOf(request), request.params.id));

    app.post('/api/v1/events/:id/ack', {
      config: { access: 'event.ack' },
      schema: {
        tags, summary: 'Acknowledge an event, with a comment (operators and up; audited); 409 when it was acknowledged before',
        params: EventId, body: Type.Object({ comment: Comment }, { additionalProperties: false }), response: { 200: Event, ...errors(400, 401, 403, 404, 409) },
      },
    }, async (request) => {
      const scope = scopeOf(request);
      await events.acknowledge(scope, [request.params.id], request.body.comment ?? null, requestActor(request), true);
      return events.get(scope, request.params.id);
    });

    app.post('/api/v1/events/ack', {
      config: { access: 'event.ack' },
      schema: {
        tags, summary: `Acknowledge the selected events (up to ${ACK_MAX_IDS}) with one comment; those acknowledged before or not yours to see are skipped and counted`,
        body: Type.Object({ ids: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: ACK_MAX_IDS }), comment: Comment }, { additionalProperties: false }),
        response: { 200: AckResult, ...errors(400, 401, 403) },
      },
    }, async (request) => events.acknowledge(scopeOf(request), request.body.ids, request.body.comment ?? null, requestActor(request)));

    app.delete('/api/v1/events/:id', {
      config: { access: 'event.delete' },
      schema: { tags, summary: 'Delete an event (and its photo); audited', params: EventId, response: { 204: NoContent, ...errors(401, 403, 404) } },
    }, async (request, reply) => {
      await events.remove(scopeOf(request), request.params.id, requestActor(request));
      return reply.code(204).send(null);
    });

    app.get('/api/v1/events/:id/photo', {
      config: { access: 'event.read' },
      schema: {
        tags,
        summary: 'The photo of an event you may see, or its 320 px thumbnail (never a public link; with S3, a redirect to a 5-minute signed URL)',
        params: EventId,
        querystring: Type.Object({ size: Type.Optional(Type.Union([Type.Literal('full'), Type.Literal('thumb')])) }),
      },
    }, async (request, reply) => {
      const photo = await photos.read(scopeOf(request), request.params.id, request.query.size);
      if ('url' in photo) return reply.header('cache-control', 'private, no-store').redirect(photo.url, 302);
      return reply.type(photo.type).header('cache-control', 'private, max-age=3600').send(photo.data);
    });
  };
}
