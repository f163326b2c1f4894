import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { scopeOf } from '../core/access.js';
import { notFound } from '../core/http/errors.js';
import { errors, IdParams, NoContent } from '../core/http/schemas.js';
import { PageQuery } from '../core/pagination.js';
import { requestActor } from '../audit/service.js';
import type { ChallanInvoicesService } from './invoices.js';
import {
  BulkDeleteAnswer, Challan, ChallanCreate, DeleteBody, DeleteQuery, ChallanFilters, ChallanPage, ChallanPatch, csvFile, IdsBody, InvoiceLink, InvoiceSubmitted, textFile,
} from './schemas.js';
import type { ChallansService } from './service.js';

const Updated = Type.Object({ updated: Type.Integer({ description: 'How many challans changed' }), items: Type.Array(Challan) });

function csvName(): string {
  return `delivery-challans-${new Date().toISOString().slice(0, 10)}.csv`;
}

/** `/api/v1/challans`: the delivery-challan register (POD files and customers have their own route files). */
export function challanRoutes(challans: ChallansService, invoices: ChallanInvoicesService) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['challans'];

    app.get('/api/v1/challans', {
      config: { access: 'challan.read' },
      schema: {
        tags, summary: 'Challans you may see: search, filters, sort by any column (default: date, newest first), keyset pages, total',
        querystring: Type.Intersect([PageQuery, ChallanFilters]), response: { 200: ChallanPage, ...errors(400, 401, 403) },
      },
    }, async (request) => challans.list(scopeOf(request), request.query));

    app.get('/api/v1/challans.csv', {
      config: { access: 'challan.read' },
      schema: { tags, summary: 'The filtered challans as CSV (streamed; every field quoted, days dd-mm-yyyy)', querystring: ChallanFilters, response: { 200: csvFile, ...errors(400, 401, 403) } },
    }, async (request, reply) => {
      const csv = await challans.exportCsv(scopeOf(request), request.query);
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${csvName()}"`).send(csv);
    });

    app.post('/api/v1/challans/export', {
      config: { access: 'challan.read' },
      schema: { tags, summary: 'The selected challans as CSV (streamed), in the register order', body: IdsBody, response: { 200: csvFile, ...errors(400, 401, 403) } },
    }, async (request, reply) => {
      const csv = await challans.exportCsv(scopeOf(request), { ids: request.body.ids });
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${csvName()}"`).send(csv);
    });

    app.post('/api/v1/challans/clipboard', {
      config: { access: 'challan.read' },
      schema: {
        tags, summary: 'The selected challans as the four-line text blocks to paste (Challan Number, Date, Customer Name, Description), separated by "-" lines',
        body: IdsBody, response: { 200: textFile, ...errors(400, 401, 403, 404) },
      },
    }, async (request, reply) => reply.type('text/plain; charset=utf-8').send(await challans.clipboard(scopeOf(request), request.body.ids)));

    app.post('/api/v1/challans', {
      config: { access: 'challan.write' },
      schema: {
        tags, summary: 'Make a challan: numbered by the server from its date; fields the server sets are ignored',
        body: ChallanCreate, response: { 201: Challan, ...errors(400, 401, 403, 409) },
      },
    }, async (request, reply) => reply.code(201).send(await challans.create(scopeOf(request), request.body, requestActor(request))));

    app.get('/api/v1/challans/:id', {
      config: { access: 'challan.read' },
      schema: { tags, summary: 'One challan', params: IdParams, response: { 200: Challan, ...errors(401, 403, 404) } },
    }, async (request) => challans.get(scopeOf(request), request.params.id));

    app.patch('/api/v1/challans/:id', {
      config: { access: 'challan.write' },
      schema: {
        tags, summary: 'Change a challan (audited); its number never changes, fields the server sets are ignored',
        params: IdParams, body: ChallanPatch, response: { 200: Challan, ...errors(400, 401, 403, 404) },
      },
    }, async (request) => challans.update(scopeOf(request), request.params.id, request.body, requestActor(request)));

    app.delete('/api/v1/challans/:id', {
      config: { access: 'challan.delete' },
      schema: {
        tags, summary: 'Delete a challan (soft: restorable for 30 days; its number stays taken), with an optional reason',
        params: IdParams, querystring: DeleteQuery, response: { 204: NoContent, ...errors(400, 401, 403, 404) },
      },
    }, async (request, reply) => {
      const { deleted } = await challans.remove(scopeOf(request), [request.params.id], requestActor(request), request.query.reason);
      if (deleted.length === 0) throw notFound('challan');
      return reply.code(204).send(null);
    });

    app.post('/api/v1/challans/bulk-delete', {
      config: { access: 'challan.delete' },
      schema: {
        tags, summary: 'Delete several challans (soft), with an optional reason; answers how many were deleted and which ids were not found',
        body: DeleteBody, response: { 200: BulkDeleteAnswer, ...errors(400, 401, 403) },
      },
    }, async (request) => {
      const result = await challans.remove(scopeOf(request), request.body.ids, requestActor(request), request.body.reason);
      return { deleted: result.deleted.length, failed: result.notFound.length, notFound: result.notFound };
    });

    app.post('/api/v1/challans/:id/restore', {
      config: { access: 'challan.delete' },
      schema: { tags, summary: 'Restore a deleted challan (within 30 days of its deletion)', params: IdParams, response: { 200: Challan, ...errors(401, 403, 404, 409) } },
    }, async (request) => challans.restore(scopeOf(request), request.params.id, requestActor(request)));

    app.post('/api/v1/challans/invoices', {
      config: { access: 'challan.write' },
      schema: {
        tags, summary: 'Link several challans to one invoice (number and date) in one action; all or nothing',
        body: InvoiceLink, response: { 200: Updated, ...errors(400, 401, 403, 404) },
      },
    }, async (request) => invoices.link(scopeOf(request), request.body, requestActor(request)));

    app.post('/api/v1/challans/invoices/submitted', {
      config: { access: 'challan.write' },
      schema: {
        tags, summary: 'Mark the invoices of several challans submitted (or pending again with submitted: false); all or nothing',
        body: InvoiceSubmitted, response: { 200: Updated, ...errors(400, 401, 403, 404) },
      },
    }, async (request) => invoices.markSubmitted(scopeOf(request), { ids: request.body.ids, submitted: request.body.submitted ?? true }, requestActor(request)));
  };
}
