import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { scopeOf } from '../core/access.js';
import { errors, IdParams, NoContent, Nullable, NullableTimestamp, Timestamp, Uuid } from '../core/http/schemas.js';
import { Page, PageQuery } from '../core/pagination.js';
import { requestActor } from '../audit/service.js';
import type { ScheduleDelivery } from './schedule-delivery.js';
import { presentRun, presentSchedule, type ReportSchedulesService } from './schedules.js';

const Kind = Type.Union([Type.Literal('speed_study'), Type.Literal('compliance'), Type.Literal('site_safety')]);
const Cadence = Type.Union([Type.Literal('weekly'), Type.Literal('monthly')], { description: 'weekly: covers the previous full week (Monday to Sunday); monthly: the previous calendar month' });
const Target = Type.Union([Type.Literal('none'), Type.Literal('pending'), Type.Literal('sent'), Type.Literal('failed')]);

const fields = {
  name: Type.String({ minLength: 1, maxLength: 100 }),
  kind: Kind,
  deviceId: Type.Optional(Nullable(Uuid)),
  siteId: Type.Optional(Nullable(Uuid)),
  cadence: Cadence,
  dayOfWeek: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 7, description: 'weekly: ISO weekday, 1 = Monday … 7 = Sunday' }))),
  dayOfMonth: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 31, description: 'monthly: 29–31 run on the last day of shorter months' }))),
  timeOfDay: Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'HH:MM, local to the time zone' }),
  timezone: Type.Optional(Nullable(Type.String({ maxLength: 64, description: 'IANA time zone; default the subject\'s (its site\'s, else the organization\'s)' }))),
  units: Type.Optional(Nullable(Type.Union([Type.Literal('mph'), Type.Literal('kmh')]))),
  notes: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  emailRecipients: Type.Optional(Type.Array(Type.String({ maxLength: 320 }), { maxItems: 50, description: 'the PDF is attached to an email to these addresses' })),
  webhookUrl: Type.Optional(Nullable(Type.String({ maxLength: 2000, description: 'a signed JSON POST with a download link (docs/reports.md)' }))),
  enabled: Type.Optional(Type.Boolean()),
};
const ScheduleBody = Type.Object(fields, { additionalProperties: false });
const SchedulePatch = Type.Partial(Type.Object(fields), { additionalProperties: false });

const Schedule = Type.Object({
  id: Uuid,
  name: Type.String(),
  kind: Kind,
  deviceId: Nullable(Uuid),
  siteId: Nullable(Uuid),
  cadence: Cadence,
  dayOfWeek: Nullable(Type.Integer()),
  dayOfMonth: Nullable(Type.Integer()),
  timeOfDay: Type.String(),
  timezone: Type.String(),
  units: Nullable(Type.String()),
  notes: Nullable(Type.String()),
  emailRecipients: Type.Array(Type.String()),
  webhookUrl: Nullable(Type.String()),
  enabled: Type.Boolean(),
  nextRunAt: NullableTimestamp,
  lastRunAt: NullableTimestamp,
  lastStatus: Nullable(Type.String({ description: 'generating, delivered, retrying, failed or skipped' })),
  lastError: Nullable(Type.String()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
const WithSecret = Type.Object({
  schedule: Schedule,
  webhookSecret: Nullable(Type.String({ description: 'the webhook signing secret, shown only in this response' })),
});
const Run = Type.Object({
  id: Uuid,
  periodFrom: Timestamp,
  periodTo: Timestamp,
  reportId: Nullable(Uuid),
  status: Type.Union([Type.Literal('generating'), Type.Literal('delivering'), Type.Literal('delivered'), Type.Literal('failed')]),
  email: Target,
  webhook: Target,
  webhookResponseStatus: Nullable(Type.Integer()),
  attempts: Type.Integer(),
  lastError: Nullable(Type.String()),
  createdAt: Timestamp,
  deliveredAt: NullableTimestamp,
  manual: Type.Boolean({ description: 'sent now by a member, beside the period\'s scheduled run' }),
});
const LinkQuery = Type.Object({ expires: Type.Integer(), signature: Type.String({ maxLength: 100 }) });

export function reportScheduleRoutes(schedules: ReportSchedulesService, delivery: ScheduleDelivery) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['reports'];

    app.get('/api/v1/report-schedules', {
      config: { access: 'report.read' },
      schema: { tags, summary: 'Report schedules of the organization, by name (a site-restricted member sees those about their sites)', querystring: PageQuery, response: { 200: Page(Schedule), ...errors(400, 401, 403) } },
    }, async (request) => {
      const page = await schedules.list(scopeOf(request), request.query);
      return { items: page.items.map(presentSchedule), nextCursor: page.nextCursor };
    });

    app.post('/api/v1/report-schedules', {
      config: { access: 'report.schedule' },
      schema: { tags, summary: 'Schedule a weekly or monthly report, sent by email and/or webhook (audited; a webhook\'s signing secret is shown once)', body: ScheduleBody, response: { 201: WithSecret, ...errors(400, 401, 403) } },
    }, async (request, reply) => {
      const created = await schedules.create(scopeOf(request), request.body, requestActor(request));
      return reply.code(201).send({ schedule: presentSchedule(created.schedule), webhookSecret: created.secret });
    });

    app.get('/api/v1/report-schedules/:id', {
      config: { access: 'report.read' },
      schema: { tags, summary: 'One report schedule with its last and next run', params: IdParams, response: { 200: Schedule, ...errors(401, 403, 404) } },
    }, async (request) => presentSchedule(await schedules.get(scopeOf(request), request.params.id)));

    app.patch('/api/v1/report-schedules/:id', {
      config: { access: 'report.schedule' },
      schema: { tags, summary: 'Change a report schedule, e.g. enable or disable it (audited)', params: IdParams, body: SchedulePatch, response: { 200: WithSecret, ...errors(400, 401, 403, 404) } },
    }, async (request) => {
      const updated = await schedules.update(scopeOf(request), request.params.id, request.body, requestActor(request));
      return { schedule: presentSchedule(updated.schedule), webhookSecret: updated.secret };
    });

    app.delete('/api/v1/report-schedules/:id', {
      config: { access: 'report.schedule' },
      schema: { tags, summary: 'Delete a report schedule; its reports stay (audited)', params: IdParams, response: { 204: NoContent, ...errors(401, 403, 404) } },
    }, async (request, reply) => {
      await schedules.remove(scopeOf(request), request.params.id, requestActor(request));
      return reply.code(204).send(null);
    });

    app.post('/api/v1/report-schedules/:id/rotate-secret', {
      config: { access: 'report.schedule' },
      schema: { tags, summary: 'Replace the webhook signing secret (shown once; audited)', params: IdParams, response: { 200: Type.Object({ webhookSecret: Type.String() }), ...errors(400, 401, 403, 404) } },
    }, async (request) => ({ webhookSecret: (await schedules.rotateSecret(scopeOf(request), request.params.id, requestActor(request))).secret }));

    app.post('/api/v1/report-schedules/:id/send', {
      config: { access: 'report.schedule' },
      schema: {
        tags,
        summary: 'Send the report of the last full period now, to the schedule\'s targets (audited; its next run is unchanged)',
        description: 'Answers 202 with the run; the report is made and delivered in the background (see the runs). 409 while an earlier send of this schedule is still in progress.',
        params: IdParams,
        response: { 202: Run, ...errors(401, 403, 404, 409) },
      },
    }, async (request, reply) => reply.code(202).send(presentRun(await schedules.sendNow(scopeOf(request), request.params.id, requestActor(request)))));

    app.get('/api/v1/report-schedules/:id/runs', {
      config: { access: 'report.read' },
      schema: { tags, summary: 'The runs of a schedule, newest first: one per period, and any sent now, with each delivery\'s outcome', params: IdParams, querystring: PageQuery, response: { 200: Page(Run), ...errors(400, 401, 403, 404) } },
    }, async (request) => {
      const page = await schedules.runs(scopeOf(request), request.params.id, request.query);
      return { items: page.items.map(presentRun), nextCursor: page.nextCursor };
    });

    app.get('/api/v1/report-links/:id/pdf', {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'A scheduled report\'s PDF through the signed, expiring link of its webhook (no sign-in: the link is the authorization)',
        params: IdParams,
        querystring: LinkQuery,
      },
    }, async (request, reply) => {
      const file = await delivery.linkedPdf(request.params.id, request.query.expires, request.query.signature);
      return reply.type('application/pdf')
        .header('content-disposition', `attachment; filename="${file.filename}"`)
        .header('cache-control', 'private, no-store')
        .send(file.data);
    });
  };
}
