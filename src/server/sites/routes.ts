import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { scopeOf } from '../core/access.js';
import { PageQuery, Page } from '../core/pagination.js';
import { errors, IdParams, NoContent, Timestamp, Uuid } from '../core/http/schemas.js';
import { requestActor } from '../audit/service.js';
import { presentSite, type SitesService } from './service.js';

const Site = Type.Object({
  id: Uuid,
  name: Type.String(),
  address: Type.Union([Type.String(), Type.Null()]),
  lat: Type.Union([Type.Number(), Type.Null()]),
  lon: Type.Union([Type.Number(), Type.Null()]),
  timezone: Type.String(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

const SiteFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  address: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()])),
  lat: Type.Optional(Type.Union([Type.Number({ minimum: -90, maximum: 90 }), Type.Null()])),
  lon: Type.Optional(Type.Union([Type.Number({ minimum: -180, maximum: 180 }), Type.Null()])),
  timezone: Type.Optional(Type.String({ maxLength: 64, description: 'IANA time zone; defaults to the organization\'s' })),
};

export function siteRoutes(sites: SitesService) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['sites'];

    app.get('/api/v1/sites', {
      config: { access: 'site.read' },
      schema: {
        tags,
        summary: 'Sites you may see, by name',
        querystring: Type.Intersect([PageQuery, Type.Object({ search: Type.Optional(Type.String({ maxLength: 200 })) })]),
        response: { 200: Page(Site), ...errors(401, 403) },
      },
    }, async (request) => {
      const page = await sites.list(scopeOf(request), request.query);
      return { items: page.items.map(presentSite), nextCursor: page.nextCursor };
    });

    app.post('/api/v1/sites', {
      config: { access: 'site.write' },
      schema: { tags, summary: 'Create a site', body: Type.Object(SiteFields), response: { 201: Site, ...errors(400, 401, 403, 409) } },
    }, async (request, reply) => reply.code(201).send(presentSite(await sites.create(scopeOf(request), request.body, requestActor(request)))));

    app.get('/api/v1/sites/:id', {
      config: { access: 'site.read' },
      schema: {
        tags, summary: 'One site, with how many devices it has', params: IdParams,
        response: { 200: Type.Intersect([Site, Type.Object({ deviceCount: Type.Integer() })]), ...errors(401, 403, 404) },
      },
    }, async (request) => {
      const scope = scopeOf(request);
      const site = presentSite(await sites.get(scope, request.params.id));
      return { ...site, deviceCount: await sites.deviceCount(scope, request.params.id) };
    });

    app.patch('/api/v1/sites/:id', {
      config: { access: 'site.write' },
      schema: {
        tags,
        summary: 'Change a site',
        params: IdParams,
        body: Type.Object({ ...SiteFields, name: Type.Optional(SiteFields.name) }, { minProperties: 1 }),
        response: { 200: Site, ...errors(400, 401, 403, 404, 409) },
      },
    }, async (request) => presentSite(await sites.update(scopeOf(request), request.params.id, request.body, requestActor(request))));

    app.delete('/api/v1/sites/:id', {
      config: { access: 'site.write' },
      schema: { tags, summary: 'Delete a site that has no devices (409 while it has some)', params: IdParams, response: { 204: NoContent, ...errors(401, 403, 404, 409) } },
    }, async (request, reply) => {
      await sites.remove(scopeOf(request), request.params.id, requestActor(request));
      return reply.code(204).send(null);
    });
  };
}
