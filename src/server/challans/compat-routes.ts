import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import multipart from '@fastify/multipart';
import { Type } from 'typebox';
import { scopeOf } from '../core/access.js';
import { AppError, badRequest, notFound } from '../core/http/errors.js';
import { errors, NoContent, Nullable } from '../core/http/schemas.js';
import { readForm } from '../core/http/uploads.js';
import { requestActor } from '../audit/service.js';
import type { ChallanCompatService, LegacyFields } from './compat.js';

const Day = Type.String({ format: 'date' });
const LegacyChallan = Type.Object({
  id: Type.String({ description: '32 hex digits (the challan id without dashes; the dashed form is accepted too)' }),
  challan_number: Type.String(),
  date: Day,
  customer: Type.String({ description: "The customer's name when the challan was made; on create or update, a customer's tag or name" }),
  dc_summary: Type.String(),
  delivery_executives: Type.String({ description: 'Names separated by commas' }),
  invoice_number: Nullable(Type.String()),
  invoice_date: Nullable(Day),
  invoice_submission: Type.Boolean(),
  proof_of_delivery: Nullable(Type.String({ description: 'Where the current POD file is downloaded (with the same credentials)' })),
  pod_upload_date: Nullable(Type.String({ format: 'date-time' })),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});
const LegacyParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const BatchDelete = Type.Object({ ids: Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: 500, uniqueItems: true }) });
const BatchAnswer = Type.Object({
  succeeded: Type.Integer({ description: 'How many challans were deleted' }),
  failed: Type.Integer({ description: 'How many ids were not challans of yours (or already deleted)' }),
  failed_ids: Type.Array(Type.String()),
});

/** The body of a create or update: a JSON object, or a form with an optional POD file. */
async function legacyBody(request: FastifyRequest): Promise<{ fields: LegacyFields; file: { name: string | undefined; data: Buffer } | null }> {
  if (request.isMultipart()) {
    const form = await readForm(request, 'proof_of_delivery');
    if (form.file && form.file.data.length === 0) return { fields: form.fields, file: null };
    return { fields: form.fields, file: form.file ? { name: form.file.fileName, data: form.file.data } : null };
  }
  const body = request.body;
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('send the challan as a JSON object or a multipart form');
  return { fields: body as LegacyFields, file: null };
}

/**
 * DC Tracker's REST paths, kept for its scripts: `/api/deliverychallan/` (list, create) and
 * `/api/deliverychallan/{id}/` (get, PUT/PATCH, DELETE) with its field names, plus a batch delete. They are
 * authenticated and authorized like the native API (a bearer token, or the session cookie and CSRF header).
 */
export function challanCompatRoutes(compat: ChallanCompatService, maxBytes: number) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['challans (DC Tracker compatibility)'];
    await app.register(multipart, { limits: { fileSize: maxBytes, files: 2, fields: 30, parts: 32, headerPairs: 20 } });

    app.get('/api/deliverychallan/', {
      config: { access: 'challan.read' },
      schema: { tags, summary: 'Every challan you may see, as one array (date, newest first), with DC Tracker field names', response: { 200: Type.Array(LegacyChallan), ...errors(401, 403) } },
    }, async (request) => compat.list(scopeOf(request)));

    app.post('/api/deliverychallan/', {
      config: { access: 'challan.write' },
      schema: { tags, summary: 'Make a challan from DC Tracker fields (JSON, or a multipart form with the POD file in proof_of_delivery); the customer is named by its tag or name; read-only fields are ignored', response: { 201: LegacyChallan, ...errors(400, 401, 403, 409, 413, 415) } },
    }, async (request, reply) => {
      const scope = scopeOf(request);
      const { fields, file } = await oversize(maxBytes, () => legacyBody(request));
      return reply.code(201).send(await compat.create(scope, fields, file, requestActor(request)));
    });

    app.get('/api/deliverychallan/:id/', {
      config: { access: 'challan.read' },
      schema: { tags, summary: 'One challan with DC Tracker field names', params: LegacyParams, response: { 200: LegacyChallan, ...errors(401, 403, 404) } },
    }, async (request) => compat.get(scopeOf(request), request.params.id));

    for (const method of ['put', 'patch'] as const) {
      app[method]('/api/deliverychallan/:id/', {
        config: { access: 'challan.write' },
        schema: {
          tags, summary: `Change a challan from DC Tracker fields (${method.toUpperCase()}: the fields sent change); a file in proof_of_delivery attaches or replaces the POD`,
          params: LegacyParams, response: { 200: LegacyChallan, ...errors(400, 401, 403, 404, 413, 415) },
        },
      }, async (request) => {
        const scope = scopeOf(request);
        const { fields, file } = await oversize(maxBytes, () => legacyBody(request));
        return compat.update(scope, request.params.id, fields, file, requestActor(request));
      });
    }

    app.delete('/api/deliverychallan/:id/', {
      config: { access: 'challan.delete' },
      schema: { tags, summary: 'Delete a challan (soft, restorable for 30 days); a second delete is 404', params: LegacyParams, response: { 204: NoContent, ...errors(401, 403, 404) } },
    }, async (request, reply) => {
      const { deleted } = await compat.remove(scopeOf(request), [request.params.id], requestActor(request));
      if (deleted.length === 0) throw notFound('challan');
      return reply.code(204).send(null);
    });

    app.post('/api/deliverychallan/batch-delete/', {
      config: { access: 'challan.delete' },
      schema: { tags, summary: 'Delete several challans; answers how many succeeded and which failed', body: BatchDelete, response: { 200: BatchAnswer, ...errors(400, 401, 403) } },
    }, async (request) => {
      const { deleted, failed } = await compat.remove(scopeOf(request), request.body.ids, requestActor(request));
      return { succeeded: deleted.length, failed: failed.length, failed_ids: failed };
    });
  };
}

/** An oversize POD file is refused with this route's own limit (CHALLAN_POD_MAX_BYTES). */
async function oversize<T>(maxBytes: number, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (!(error instanceof AppError) || error.code !== 'file_too_large') throw error;
    const limit = `${Math.floor(maxBytes / (1024 * 1024))} MB`;
    throw new AppError(413, 'file_too_large', `a proof of delivery may be at most ${limit}`, [{ field: 'proof_of_delivery', message: `is larger than ${limit}` }]);
  }
}
