import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { scopeOf } from '../core/access.js';
import type { Config } from '../core/config.js';
import { errors, IdParams, NoContent, Nullable, Timestamp, Uuid } from '../core/http/schemas.js';
import { readSingleFile, registerFileUploads } from '../core/http/uploads.js';
import { Page, PageQuery } from '../core/pagination.js';
import { requestActor } from '../audit/service.js';
import type { MaintenanceAttachmentsService } from './attachments.js';
import type { MaintenanceService } from './service.js';

const MaintenanceType = Type.Union([Type.Literal('preventive'), Type.Literal('corrective'), Type.Literal('inspection')]);
const DueStatus = Type.Union([Type.Literal('overdue'), Type.Literal('due_soon')]);
const Day = Type.String({ format: 'date', description: 'A calendar day, YYYY-MM-DD' });

const Attachment = Type.Object({
  id: Uuid,
  fileName: Type.String(),
  contentType: Type.String(),
  sizeBytes: Type.Integer(),
  createdAt: Timestamp,
  url: Type.String({ description: 'Where the file is served, to users who may see the device' }),
});

const MaintenanceRecord = Type.Object({
  id: Uuid,
  deviceId: Uuid,
  deviceName: Type.String(),
  siteId: Nullable(Uuid),
  type: MaintenanceType,
  performedAt: Timestamp,
  performedBy: Type.String(),
  description: Type.String(),
  cost: Nullable(Type.Number()),
  currency: Nullable(Type.String()),
  parts: Type.Array(Type.String()),
  notes: Nullable(Type.String()),
  nextDueOn: Nullable(Day),
  createdBy: Nullable(Uuid),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  attachments: Type.Array(Attachment),
});

const Editable = {
  type: MaintenanceType,
  performedAt: Type.Optional(Type.String({ format: 'date-time', description: 'When the work was done; default now' })),
  performedBy: Type.String({ minLength: 1, maxLength: 200, description: 'The technician who did the work' }),
  description: Type.String({ minLength: 1, maxLength: 5000 }),
  cost: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 9_999_999_999.99 }))),
  currency: Type.Optional(Nullable(Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code, e.g. EUR' }))),
  parts: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 100 })),
  notes: Type.Optional(Nullable(Type.String({ maxLength: 10_000 }))),
  nextDueOn: Type.Optional(Nullable(Day)),
};

const DueEntry = Type.Object({
  recordId: Uuid,
  deviceId: Uuid,
  deviceName: Type.String(),
  serial: Type.String(),
  siteId: Nullable(Uuid),
  siteName: Nullable(Type.String()),
  status: DueStatus,
  nextDueOn: Day,
  daysUntilDue: Type.Integer({ description: 'Negative when overdue' }),
  lastType: MaintenanceType,
  lastPerformedAt: Timestamp,
  lastPerformedBy: Type.String(),
});

const DueQuery = Type.Object({
  withinDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 365, description: "Default: the organization's reminder window" })),
  status: Type.Optional(DueStatus),
});

const RecordsQuery = Type.Object({ type: Type.Optional(MaintenanceType) });
const ReminderDays = Type.Integer({ minimum: 0, maximum: 365, description: 'Reminders go out this many days before the due date' });
const ReminderChannels = Nullable(Type.Array(Uuid, { maxItems: 50, uniqueItems: true, description: 'The notification channels reminders go to; null: every enabled channel of the organization, [] none' }));
const Settings = Type.Object({ reminderDays: ReminderDays, channelIds: ReminderChannels });
const SettingsChange = Type.Object({ reminderDays: ReminderDays, channelIds: Type.Optional(ReminderChannels) });

/** A file answer in the OpenAPI document (the body is streamed or sent as bytes, never serialized). */
const csvFile = { description: 'CSV with a header row', content: { 'text/csv': { schema: Type.Unsafe<Readable>({ type: 'string' }) } } };
const storedFile = {
  description: 'The file (JPEG, PNG, WebP or PDF); with S3 storage a 302 to a short-lived signed URL instead',
  content: { 'application/octet-stream': { schema: Type.Unsafe<Buffer>({ type: 'string', format: 'binary' }) } },
};

function csvName(prefix: string): string {
  return `${prefix}-${new Date().toISOString().slice(0, 10)}.csv`;
}

/** A Content-Disposition filename: ASCII fallback plus the exact name, RFC 6266. */
function disposition(kind: 'inline' | 'attachment', fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

export function maintenanceRoutes(maintenance: MaintenanceService, attachments: MaintenanceAttachmentsService, config: Config) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['maintenance'];
    await registerFileUploads(app, config.mediaMaxBytes);

    app.get('/api/v1/devices/:id/maintenance', {
      config: { access: 'maintenance.read' },
      schema: {
        tags, summary: "A device's maintenance history, newest performed first", params: IdParams,
        querystring: Type.Intersect([PageQuery, RecordsQuery]), response: { 200: Page(MaintenanceRecord), ...errors(400, 401, 403, 404) },
      },
    }, async (request) => maintenance.history(scopeOf(request), request.params.id, request.query));

    app.post('/api/v1/devices/:id/maintenance', {
      config: { access: 'maintenance.write' },
      schema: {
        tags, summary: 'Log maintenance done on a device', params: IdParams, body: Type.Object(Editable),
        response: { 201: MaintenanceRecord, ...errors(400, 401, 403, 404) },
      },
    }, async (request, reply) => reply.code(201).send(await maintenance.create(scopeOf(request), request.params.id, request.body, requestActor(request))));

    app.get('/api/v1/maintenance/records', {
      config: { access: 'maintenance.read' },
      schema: {
        tags, summary: 'Maintenance records of every device you may see, newest performed first',
        querystring: Type.Intersect([PageQuery, RecordsQuery, Type.Object({ deviceId: Type.Optional(Uuid) })]),
        response: { 200: Page(MaintenanceRecord), ...errors(400, 401, 403) },
      },
    }, async (request) => maintenance.list(scopeOf(request), request.query));

    app.get('/api/v1/maintenance/records.csv', {
      config: { access: 'maintenance.read' },
      schema: {
        tags, summary: 'Every maintenance record you may see as CSV (streamed)', querystring: Type.Intersect([RecordsQuery, Type.Object({ deviceId: Type.Optional(Uuid) })]),
        response: { 200: csvFile, ...errors(400, 401, 403) },
      },
    }, async (request, reply) => reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', disposition('attachment', csvName('maintenance-records')))
      .send(maintenance.exportRecordsCsv(scopeOf(request), request.query)));

    app.get('/api/v1/maintenance/records/:id', {
      config: { access: 'maintenance.read' },
      schema: { tags, summary: 'One maintenance record', params: IdParams, response: { 200: MaintenanceRecord, ...errors(401, 403, 404) } },
    }, async (request) => maintenance.get(scopeOf(request), request.params.id));

    app.patch('/api/v1/maintenance/records/:id', {
      config: { access: 'maintenance.write' },
      schema: {
        tags, summary: 'Change a maintenance record (audited)', params: IdParams,
        body: Type.Partial(Type.Object(Editable), { minProperties: 1 }),
        response: { 200: MaintenanceRecord, ...errors(400, 401, 403, 404) },
      },
    }, async (request) => maintenance.update(scopeOf(request), request.params.id, request.body, requestActor(request)));

    app.delete('/api/v1/maintenance/records/:id', {
      config: { access: 'maintenance.delete' },
      schema: { tags, summary: 'Delete a maintenance record and its attachments (audited)', params: IdParams, response: { 204: NoContent, ...errors(401, 403, 404) } },
    }, async (request, reply) => {
      await maintenance.remove(scopeOf(request), request.params.id, requestActor(request));
      return reply.code(204).send(null);
    });

    app.post('/api/v1/maintenance/records/:id/attachments', {
      config: { access: 'maintenance.write' },
      schema: {
        tags, summary: 'Attach a photo (JPEG, PNG, WebP) or a PDF: multipart field "file", checked by content, size-limited',
        consumes: ['multipart/form-data'], params: IdParams, response: { 201: Attachment, ...errors(400, 401, 403, 404, 409, 413, 415) },
      },
    }, async (request, reply) => {
      const file = await readSingleFile(request);
      const attachment = await attachments.add(scopeOf(request), request.params.id, { name: file.fileName, data: file.data }, requestActor(request));
      return reply.code(201).send(attachment);
    });

    app.get('/api/v1/maintenance/attachments/:id', {
      config: { access: 'maintenance.read' },
      schema: {
        tags, summary: 'An attachment of a record you may see (with S3, a redirect to a 5-minute signed URL)', params: IdParams,
        response: { 200: storedFile, ...errors(401, 403, 404) },
      },
    }, async (request, reply) => {
      const file = await attachments.read(scopeOf(request), request.params.id);
      if ('url' in file) return reply.header('cache-control', 'private, no-store').redirect(file.url, 302);
      return reply
        .type(file.type)
        .header('content-disposition', disposition(file.type === 'application/pdf' ? 'attachment' : 'inline', file.fileName))
        .header('content-security-policy', "default-src 'none'; sandbox")
        .header('cache-control', 'private, max-age=300')
        .send(file.data);
    });

    app.delete('/api/v1/maintenance/attachments/:id', {
      config: { access: 'maintenance.write' },
      schema: { tags, summary: 'Remove an attachment (audited)', params: IdParams, response: { 204: NoContent, ...errors(401, 403, 404) } },
    }, async (request, reply) => {
      await attachments.remove(scopeOf(request), request.params.id, requestActor(request));
      return reply.code(204).send(null);
    });

    app.get('/api/v1/maintenance/due', {
      config: { access: 'maintenance.read' },
      schema: {
        tags, summary: 'Devices whose next maintenance is overdue or due soon, soonest first',
        querystring: Type.Intersect([PageQuery, DueQuery]),
        response: { 200: Type.Object({ withinDays: Type.Integer(), items: Type.Array(DueEntry), nextCursor: Nullable(Type.String()) }), ...errors(400, 401, 403) },
      },
    }, async (request) => maintenance.due(scopeOf(request), request.query));

    app.get('/api/v1/maintenance/due.csv', {
      config: { access: 'maintenance.read' },
      schema: { tags, summary: 'The overdue and due-soon list as CSV (streamed)', querystring: DueQuery, response: { 200: csvFile, ...errors(400, 401, 403) } },
    }, async (request, reply) => reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', disposition('attachment', csvName('maintenance-due')))
      .send(maintenance.exportDueCsv(scopeOf(request), request.query)));

    app.get('/api/v1/maintenance/settings', {
      config: { access: 'maintenance.read' },
      schema: { tags, summary: "The organization's maintenance reminder settings", response: { 200: Settings, ...errors(401, 403) } },
    }, async (request) => maintenance.settings(scopeOf(request)));

    app.put('/api/v1/maintenance/settings', {
      config: { access: 'org.update' },
      schema: {
        tags,
        summary: 'Change how many days before the due date reminders go out, and through which notification channels (admins; channelIds absent: unchanged)',
        body: SettingsChange,
        response: { 200: Settings, ...errors(400, 401, 403) },
      },
    }, async (request) => maintenance.saveSettings(scopeOf(request), request.body, requestActor(request)));
  };
}
