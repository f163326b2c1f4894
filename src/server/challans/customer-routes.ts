import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { scopeOf } from '../core/access.js';
import { errors, IdParams, NoContent } from '../core/http/schemas.js';
import { Page, PageQuery } from '../core/pagination.js';
import { requestActor } from '../audit/service.js';
import type { CustomersService } from './customers.js';
import { Customer, CustomerCreate, CustomerPatch } from './schemas.js';

const CustomerQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 200, description: 'Part of the name or tag' })),
  active: Type.Optional(Type.Boolean()),
});

/** `/api/v1/customers`: the organization's customers, picked when a challan is made; managers and up keep the list. */
export function customerRoutes(customers: CustomersService) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['challans'];

    app.get('/api/v1/customers', {
      config: { access: 'challan.read' },
      schema: { tags, summary: 'Customers by name', querystring: Type.Intersect([PageQuery, CustomerQuery]), response: { 200: Page(Customer), ...errors(400, 401, 403) } },
    }, async (request) => customers.list(scopeOf(request), request.query));

    app.post('/api/v1/customers', {
      config: { access: 'customer.write' },
      schema: { tags, summary: 'Add a customer', body: CustomerCreate, response: { 201: Customer, ...errors(400, 401, 403, 409) } },
    }, async (request, reply) => reply.code(201).send(await customers.create(scopeOf(request), request.body, requestActor(request))));

    app.get('/api/v1/customers/:id', {
      config: { access: 'challan.read' },
      schema: { tags, summary: 'One customer', params: IdParams, response: { 200: Customer, ...errors(401, 403, 404) } },
    }, async (request) => customers.get(scopeOf(request), request.params.id));

    app.patch('/api/v1/customers/:id', {
      config: { access: 'customer.write' },
      schema: { tags, summary: "Change a customer (challans keep the name they were made with); active: false stops offering it", params: IdParams, body: CustomerPatch, response: { 200: Customer, ...errors(400, 401, 403, 404, 409) } },
    }, async (request) => customers.update(scopeOf(request), request.params.id, request.body, requestActor(request)));

    app.delete('/api/v1/customers/:id', {
      config: { access: 'customer.write' },
      schema: { tags, summary: 'Delete a customer no challan names (otherwise 409: make it inactive)', params: IdParams, response: { 204: NoContent, ...errors(401, 403, 404, 409) } },
    }, async (request, reply) => {
      await customers.remove(scopeOf(request), request.params.id, requestActor(request));
      return reply.code(204).send(null);
    });
  };
}
