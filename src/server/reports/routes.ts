import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { scopeOf } from '../core/access.js';
import { errors, IdParams, NoContent, Nullable, NullableTimestamp, Timestamp, Uuid } from '../core/http/schemas.js';
import { Page, PageQuery } from '../core/pagination.js';
import { requestActor } from '../audit/service.js';
import { presentReport, type ReportsService } from './service.js';

const Kind = Type.Union([Type.Literal('speed_study'), Type.Literal('compliance'), Type.Literal('site_safety')]);
const Bound = Type.String({ minLength: 10, maxLength: 40, description: 'ISO 8601 date-time, or YYYY-MM-DD in the subject\'s time zone (a "to" date includes that whole day)' });

const ReportRequest = Type.Object({
  kind: Kind,
  deviceId: Type.Optional(Uuid),
  siteId: Type.Optional(Uuid),
  from: Type.Optional(Bound),
  to: Type.Optional(Bound),
  units: Type.Optional(Type.Union([Type.Literal('mph'), Type.Literal('kmh')], { description: 'speed studies: the units figures are given in (default the device\'s or organization\'s)' })),
  notes: Type.Optional(Type.String({ maxLength: 2000, description: 'speed studies: calibration and other notes printed on the title page' })),
  title: Type.Optional(Type.String({ maxLength: 200 })),
}, { additionalProperties: false });

const Report = Type.Object({
  id: Uuid,
  kind: Kind,
  title: Type.String(),
  siteId: Nullable(Uuid),
  parameters: Type.Record(Type.String(), Type.Unknown()),
  requestedBy: Nullable(Type.Object({ id: Uuid, label: Nullable(Type.String()) })),
  schedule: Nullable(Type.Object({ id: Uuid, name: Nullable(Type.String()) }, { description: 'the schedule that made this report (then requestedBy is null)' })),
  requestedAt: Timestamp,
  status: Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('done'), Type.Literal('failed')]),
  progress: Type.Integer({ minimum: 0, maximum: 100 }),
  error: Nullable(Type.String()),
  startedAt: NullableTimestamp,
  finishedAt: NullableTimestamp,
  files: Type.Object({ pdf: Type.Boolean(), csv: Type.Boolean(), events: Type.Boolean({ description: 'speed studies: every vehicle of the range' }) }),
  sizeBytes: Nullable(Type.Integer()),
});

const Settings = Type.Object({ includePhotos: Type.Boolean({ description: 'show the top speeders\' photos in speed-study reports' }) }, { additionalProperties: false });
const FileParams = Type.Object({ id: Uuid, file: Type.Union([Type.Literal('pdf'), Type.Literal('csv'), Type.Literal('events')]) });

export function reportRoutes(reports: ReportsService) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['reports'];

    app.post('/api/v1/reports', {
      config: { access: 'report.write' },
      schema: {
        tags,
        summary: 'Request a speed-study, compliance or site-safety report; it is generated in the background (follow `report.progress` on the live stream)',
        body: ReportRequest,
        response: { 202: Report, ...errors(400, 401, 403) },
      },
    }, async (request, reply) => {
      const report = await reports.create(scopeOf(request), request.body, requestActor(request));
      return reply.code(202).send(presentReport(report));
    });

    app.get('/api/v1/reports', {
      config: { access: 'report.read' },
      schema: { tags, summary: 'Reports of the organization, newest first (a site-restricted member sees reports about their sites)', querystring: Type.Object({ ...PageQuery.properties, kind: Type.Optional(Kind) }), response: { 200: Page(Report), ...errors(400, 401, 403) } },
    }, async (request) => {
      const page = await reports.list(scopeOf(request), request.query);
      return { items: page.items.map(presentReport), nextCursor: page.nextCursor };
    });

    app.get('/api/v1/reports/settings', {
      config: { access: 'report.read' },
      schema: { tags, summary: 'Report settings of the organization', response: { 200: Settings, ...errors(401, 403) } },
    }, async (request) => reports.settings(scopeOf(request)));

    app.put('/api/v1/reports/settings', {
      config: { access: 'org.update' },
      schema: { tags, summary: 'Change the report settings (administrators; audited)', body: Settings, response: { 200: Settings, ...errors(400, 401, 403) } },
    }, async (request) => reports.updateSettings(scopeOf(request), request.body.includePhotos, requestActor(request)));

    app.get('/api/v1/reports/:id', {
      config: { access: 'report.read' },
      schema: { tags, summary: 'One report with its status and progress', params: IdParams, response: { 200: Report, ...errors(401, 403, 404) } },
    }, async (request) => presentReport(await reports.get(scopeOf(request), request.params.id)));

    app.get('/api/v1/reports/:id/files/:file', {
      config: { access: 'report.read' },
      schema: {
        tags,
        summary: 'Download a finished report: `pdf`, `csv` (the figures) or `events` (speed studies: every vehicle as CSV)',
        description: 'Answers 409 while the report is queued, running or failed.',
        params: FileParams,
      },
    }, async (request, reply) => {
      const file = await reports.file(scopeOf(request), request.params.id, request.params.file);
      return reply.type(file.contentType)
        .header('content-disposition', `attachment; filename="${file.filename}"`)
        .header('cache-control', 'private, no-store')
        .send(file.data);
    });

    app.delete('/api/v1/reports/:id', {
      config: { access: 'report.write' },
      schema: { tags, summary: 'Delete a report and its files (audited)', params: IdParams, response: { 204: NoContent, ...errors(401, 403, 404) } },
    }, async (request, reply) => {
      await reports.remove(scopeOf(request), request.params.id, requestActor(request));
      return reply.code(204).send(null);
    });
  };
}
