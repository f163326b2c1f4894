import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { scopeOf } from '../core/access.js';
import { Page, PageQuery } from '../core/pagination.js';
import { Email, errors, IdParams, NoContent, Nullable, NullableTimestamp, Timestamp, Uuid } from '../core/http/schemas.js';
import { requestActor } from '../audit/service.js';
import { presentChannel, presentDelivery, type NotificationChannelsService } from './channels-service.js';

const Kind = Type.Union([Type.Literal('email'), Type.Literal('webhook'), Type.Literal('in_app')]);
const QuietHours = Type.Object({
  from: Type.String({ description: 'HH:MM in the organization\'s time zone' }),
  to: Type.String({ description: 'HH:MM; before "from" means the window crosses midnight' }),
}, { description: 'Notifications of non-critical alerts wait until the window ends' });
const Digest = Type.Union([
  Type.Object({ every: Type.Literal('minutes'), minutes: Type.Integer({ minimum: 5, maximum: 1440, description: 'Counted from local midnight: 60 sends on the hour' }) }),
  Type.Object({ every: Type.Literal('day'), at: Type.String({ description: 'HH:MM in the organization\'s time zone' }) }),
], { description: 'Collect notifications and send one digest per window instead of one message each; critical alerts still go out at once. Email and webhook channels only.' });
const Channel = Type.Object({
  id: Uuid,
  name: Type.String(),
  kind: Kind,
  recipients: Type.Array(Type.String()),
  url: Nullable(Type.String()),
  quietHours: Nullable(QuietHours),
  digest: Nullable(Digest),
  nextDigestAt: NullableTimestamp,
  enabled: Type.Boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
const WithSecret = Type.Object({
  channel: Channel,
  secret: Nullable(Type.String({ description: 'The webhook signing secret, shown only in this response (see docs/alerts.md to verify signatures)' })),
});
const Delivery = Type.Object({
  id: Type.String(),
  alertId: Nullable(Uuid),
  event: Type.String({ description: 'alert.opened, alert.resolved, alert.escalated, maintenance.due, maintenance.overdue or digest' }),
  status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed'), Type.Literal('held'), Type.Literal('digested')], {
    description: 'held: waiting for the channel\'s next digest; digested: sent inside the digest `digestId`',
  }),
  attempts: Type.Integer(),
  nextAttemptAt: NullableTimestamp,
  lastError: Nullable(Type.String()),
  responseStatus: Nullable(Type.Integer()),
  deliveredAt: NullableTimestamp,
  digestId: Nullable(Type.String()),
  createdAt: Timestamp,
});
const Fields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  recipients: Type.Optional(Type.Array(Email, { maxItems: 20, uniqueItems: true })),
  url: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  quietHours: Type.Optional(Nullable(QuietHours)),
  digest: Type.Optional(Nullable(Digest)),
  enabled: Type.Optional(Type.Boolean()),
};

export function notificationRoutes(channels: NotificationChannelsService) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['notifications'];

    app.get('/api/v1/notification-channels', {
      config: { access: 'notification.read' },
      schema: { tags, summary: 'Notification channels of your organization', querystring: PageQuery, response: { 200: Page(Channel), ...errors(400, 401, 403) } },
    }, async (request) => {
      const page = await channels.list(scopeOf(request), request.query);
      return { items: page.items.map(presentChannel), nextCursor: page.nextCursor };
    });

    app.post('/api/v1/notification-channels', {
      config: { access: 'notification.write' },
      schema: {
        tags,
        summary: 'Create a channel (email recipients, a webhook URL, or in-app); a webhook\'s signing secret is shown once',
        body: Type.Object({ ...Fields, kind: Kind }),
        response: { 201: WithSecret, ...errors(400, 401, 403, 409) },
      },
    }, async (request, reply) => {
      const { body } = request;
      const created = await channels.create(scopeOf(request), {
        name: body.name, kind: body.kind, recipients: body.recipients ?? [], url: body.url ?? null, quietHours: body.quietHours ?? null, digest: body.digest ?? null, enabled: body.enabled ?? true,
      }, requestActor(request));
      return reply.code(201).send({ channel: presentChannel(created.channel), secret: created.secret });
    });

    app.get('/api/v1/notification-channels/:id', {
      config: { access: 'notification.read' },
      schema: { tags, summary: 'One channel', params: IdParams, response: { 200: Channel, ...errors(401, 403, 404) } },
    }, async (request) => presentChannel(await channels.get(scopeOf(request), request.params.id)));

    app.patch('/api/v1/notification-channels/:id', {
      config: { access: 'notification.write' },
      schema: {
        tags,
        summary: 'Change a channel (its kind stays)',
        params: IdParams,
        body: Type.Object({ ...Fields, name: Type.Optional(Fields.name) }, { minProperties: 1 }),
        response: { 200: Channel, ...errors(400, 401, 403, 404, 409) },
      },
    }, async (request) => presentChannel(await channels.update(scopeOf(request), request.params.id, request.body, requestActor(request))));

    app.delete('/api/v1/notification-channels/:id', {
      config: { access: 'notification.write' },
      schema: { tags, summary: 'Delete a channel', params: IdParams, response: { 204: NoContent, ...errors(401, 403, 404) } },
    }, async (request, reply) => {
      await channels.remove(scopeOf(request), request.params.id, requestActor(request));
      return reply.code(204).send(null);
    });

    app.post('/api/v1/notification-channels/:id/rotate-secret', {
      config: { access: 'notification.write' },
      schema: { tags, summary: 'Replace a webhook\'s signing secret (shown once)', params: IdParams, response: { 200: WithSecret, ...errors(400, 401, 403, 404) } },
    }, async (request) => {
      const rotated = await channels.rotateSecret(scopeOf(request), request.params.id, requestActor(request));
      return { channel: presentChannel(rotated.channel), secret: rotated.secret };
    });

    app.get('/api/v1/notification-channels/:id/deliveries', {
      config: { access: 'notification.read' },
      schema: {
        tags,
        summary: 'Delivery log of a channel, newest first: status, attempts, last error, receiver\'s answer',
        params: IdParams,
        querystring: PageQuery,
        response: { 200: Page(Delivery), ...errors(400, 401, 403, 404) },
      },
    }, async (request) => {
      const page = await channels.deliveries(scopeOf(request), request.params.id, request.query);
      return { items: page.items.map(presentDelivery), nextCursor: page.nextCursor };
    });
  };
}
