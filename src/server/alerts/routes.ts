import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { scopeOf } from '../core/access.js';
import { requestActor } from '../audit/service.js';
import { Page, PageQuery } from '../core/pagination.js';
import { errors, IdParams, Nullable, Timestamp, Uuid } from '../core/http/schemas.js';
import { presentAlert } from './present.js';
import { Alert, SeverityName } from './schemas.js';
import type { AlertsService } from './service.js';

const Filter = Type.Object({
  status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('acknowledged'), Type.Literal('resolved'), Type.Literal('active')], { description: 'active = open or acknowledged' })),
  severity: Type.Optional(SeverityName),
  deviceId: Type.Optional(Uuid),
  siteId: Type.Optional(Uuid),
  ruleId: Type.Optional(Uuid),
  from: Type.Optional(Timestamp),
  to: Type.Optional(Timestamp),
  search: Type.Optional(Type.String({ maxLength: 200, description: 'In the message and the rule name' })),
});

const Comment = Type.Object({ comment: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))) });
const BySeverity = Type.Record(Type.String(), Type.Integer());
const Counts = {
  totalActive: Type.Integer(),
  bySeverity: BySeverity,
  byStatus: Type.Object({ open: Type.Integer(), acknowledged: Type.Integer() }),
};
const Timing = Type.Object({ count: Type.Integer(), averageSeconds: Nullable(Type.Number()), medianSeconds: Nullable(Type.Number()), p90Seconds: Nullable(Type.Number()) });

export function alertRoutes(alerts: AlertsService) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['alerts'];

    app.get('/api/v1/alerts', {
      config: { access: 'alert.read' },
      schema: {
        tags,
        summary: 'Alerts you may see, newest first, with filters and search',
        querystring: Type.Intersect([PageQuery, Filter]),
        response: { 200: Page(Alert), ...errors(400, 401, 403) },
      },
    }, async (request) => {
      const page = await alerts.list(scopeOf(request), request.query);
      return { items: page.items.map(presentAlert), nextCursor: page.nextCursor };
    });

    app.get('/api/v1/alerts/counts', {
      config: { access: 'alert.read' },
      schema: { tags, summary: 'Active alerts by severity and status', response: { 200: Type.Object(Counts), ...errors(401, 403) } },
    }, async (request) => alerts.counts(scopeOf(request)));

    app.get('/api/v1/alerts/statistics', {
      config: { access: 'alert.read' },
      schema: {
        tags,
        summary: 'Active counts by severity and type; over a range (default 30 days): time to acknowledge and resolve, noisiest devices and rules',
        querystring: Type.Object({ from: Type.Optional(Timestamp), to: Type.Optional(Timestamp) }),
        response: {
          200: Type.Object({
            ...Counts,
            byType: Type.Record(Type.String(), Type.Integer({ description: 'Active alerts by metric (or offline, no_data)' })),
            from: Timestamp,
            to: Timestamp,
            opened: Type.Integer(),
            timeToAcknowledge: Timing,
            timeToResolve: Timing,
            noisiestDevices: Type.Array(Type.Object({ deviceId: Uuid, name: Type.String(), alerts: Type.Integer() })),
            noisiestRules: Type.Array(Type.Object({ ruleId: Nullable(Uuid), name: Type.String(), alerts: Type.Integer(), devices: Type.Integer() })),
          }),
          ...errors(400, 401, 403),
        },
      },
    }, async (request) => alerts.statistics(scopeOf(request), request.query));

    app.post('/api/v1/alerts/acknowledge', {
      config: { access: 'alert.ack' },
      schema: {
        tags,
        summary: 'Acknowledge several open alerts at once',
        body: Type.Object({ ids: Type.Array(Uuid, { minItems: 1, maxItems: 500, uniqueItems: true }), comment: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))) }),
        response: { 200: Type.Object({ acknowledged: Type.Array(Alert), skipped: Type.Array(Uuid, { description: 'Not open, or not an alert you may see' }) }), ...errors(400, 401, 403) },
      },
    }, async (request) => {
      const result = await alerts.acknowledgeMany(scopeOf(request), request.body.ids, request.body.comment ?? null, requestActor(request));
      return { acknowledged: result.acknowledged.map(presentAlert), skipped: result.skipped };
    });

    app.get('/api/v1/alerts/:id', {
      config: { access: 'alert.read' },
      schema: { tags, summary: 'One alert', params: IdParams, response: { 200: Alert, ...errors(401, 403, 404) } },
    }, async (request) => presentAlert(await alerts.get(scopeOf(request), request.params.id)));

    app.post('/api/v1/alerts/:id/acknowledge', {
      config: { access: 'alert.ack' },
      schema: {
        tags,
        summary: 'Acknowledge an open alert, with an optional comment',
        params: IdParams,
        body: Comment,
        response: { 200: Alert, ...errors(400, 401, 403, 404, 409) },
      },
    }, async (request) => presentAlert(await alerts.acknowledge(scopeOf(request), request.params.id, request.body.comment ?? null, requestActor(request))));

    app.post('/api/v1/alerts/:id/resolve', {
      config: { access: 'alert.ack' },
      schema: {
        tags,
        summary: 'Resolve an alert by hand, with an optional comment: the corrective action taken',
        params: IdParams,
        body: Type.Optional(Comment),
        response: { 200: Alert, ...errors(400, 401, 403, 404, 409) },
      },
      // A request without a body (older clients) resolves with no comment.
      preValidation: async (request) => {
        request.body ??= {};
      },
    }, async (request) => presentAlert(await alerts.resolve(scopeOf(request), request.params.id, request.body?.comment ?? null, requestActor(request))));

    app.get('/api/v1/devices/:id/alerts', {
      config: { access: 'alert.read' },
      schema: {
        tags,
        summary: 'A device\'s alert history, newest first',
        params: IdParams,
        querystring: Type.Intersect([PageQuery, Type.Omit(Filter, ['deviceId'])]),
        response: { 200: Page(Alert), ...errors(400, 401, 403, 404) },
      },
    }, async (request) => {
      const page = await alerts.history(scopeOf(request), request.params.id, request.query);
      return { items: page.items.map(presentAlert), nextCursor: page.nextCursor };
    });
  };
}
