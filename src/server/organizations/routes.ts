import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { principalOf, scopeOf } from '../core/access.js';
import { PageQuery, Page } from '../core/pagination.js';
import { errors, IdParams, Timestamp, Uuid } from '../core/http/schemas.js';
import { requestActor } from '../audit/service.js';
import type { MembersService } from '../members/service.js';
import { presentOrganization, type OrganizationsService } from './service.js';

const Organization = Type.Object({
  id: Uuid,
  name: Type.String(),
  slug: Type.String(),
  maxUsers: Type.Union([Type.Integer(), Type.Null()]),
  maxDevices: Type.Union([Type.Integer(), Type.Null()]),
  maxCameras: Type.Union([Type.Integer(), Type.Null()], { description: 'cameras the organization may register; null: no limit beyond maxDevices' }),
  allowedEmailDomains: Type.Array(Type.String()),
  units: Type.Union([Type.Literal('mph'), Type.Literal('kmh')]),
  timezone: Type.String(),
  locale: Type.String({ description: 'BCP 47 tag: how dates and numbers are written in the console, public pages, PDF reports and CSV text' }),
  publicSharing: Type.Boolean({ description: 'devices this organization marks as shared appear on the public community pages' }),
  publicPhotos: Type.Boolean({ description: 'the public pages may show photos of speeders (of shared devices)' }),
  retentionDays: Type.Union([Type.Integer(), Type.Null()]),
  createdAt: Timestamp,
});

const Settings = {
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  allowedEmailDomains: Type.Optional(Type.Array(Type.String({ maxLength: 253 }), { maxItems: 50, uniqueItems: true })),
  units: Type.Optional(Type.Union([Type.Literal('mph'), Type.Literal('kmh')])),
  timezone: Type.Optional(Type.String({ maxLength: 64 })),
  locale: Type.Optional(Type.String({ minLength: 2, maxLength: 35, description: 'BCP 47 tag, e.g. en-US, en-GB, de-DE' })),
  publicSharing: Type.Optional(Type.Boolean()),
  publicPhotos: Type.Optional(Type.Boolean()),
  retentionDays: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 36500 }), Type.Null()], { description: 'days of raw events and telemetry kept; hourly rollups are kept. Raw data is dropped a whole month at a time once the month is past it, so it may stay up to a month longer (docs/retention.md)' })),
};
const PlanLimits = {
  slug: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' })),
  maxUsers: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
  maxDevices: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
  maxCameras: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
};

export function organizationRoutes(organizations: OrganizationsService, members: MembersService) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['organizations'];

    app.get('/api/v1/organization', {
      config: { access: 'org.read' },
      schema: { tags, summary: 'The organization you are acting in', response: { 200: Organization, ...errors(401, 403) } },
    }, async (request) => presentOrganization(await organizations.get(scopeOf(request).orgId)));

    app.patch('/api/v1/organization', {
      config: { access: 'org.update' },
      schema: { tags, summary: 'Change the settings of your organization', body: Type.Object(Settings, { minProperties: 1 }), response: { 200: Organization, ...errors(400, 401, 403) } },
    }, async (request) => presentOrganization(await organizations.update(scopeOf(request).orgId, request.body, requestActor(request))));

    app.get('/api/v1/organizations', {
      config: { access: 'superadmin' },
      schema: { tags: ['platform'], summary: 'All organizations of the platform, by name; search by name or slug', querystring: Type.Intersect([PageQuery, Type.Object({ search: Type.Optional(Type.String({ maxLength: 200 })) })]), response: { 200: Page(Organization), ...errors(401, 403) } },
    }, async (request) => {
      const page = await organizations.listAll(request.query);
      return { items: page.items.map(presentOrganization), nextCursor: page.nextCursor };
    });

    app.post('/api/v1/organizations', {
      config: { access: 'superadmin' },
      schema: {
        tags: ['platform'],
        summary: 'Create an organization; you become its owner',
        body: Type.Object({ ...Settings, ...PlanLimits, name: Type.String({ minLength: 1, maxLength: 200 }) }),
        response: { 201: Organization, ...errors(400, 401, 403, 409) },
      },
    }, async (request, reply) => {
      const created = await members.createOrganizationWithOwner(request.body, principalOf(request).userId, requestActor(request));
      return reply.code(201).send(presentOrganization(created));
    });

    app.patch('/api/v1/organizations/:id', {
      config: { access: 'superadmin' },
      schema: {
        tags: ['platform'],
        summary: 'Change any organization, including its plan limits',
        params: IdParams,
        body: Type.Object({ ...Settings, ...PlanLimits }, { minProperties: 1 }),
        response: { 200: Organization, ...errors(400, 401, 403, 404, 409) },
      },
    }, async (request) => presentOrganization(await organizations.update(request.params.id, request.body, requestActor(request))));

    app.get('/api/v1/admin/stats', {
      config: { access: 'superadmin' },
      schema: { tags: ['platform'], summary: 'Platform-wide figures', response: {
        200: Type.Object({ organizations: Type.Integer(), users: Type.Integer(), sites: Type.Integer(), devices: Type.Integer(), eventsLast24h: Type.Integer() }),
        ...errors(401, 403),
      } },
    }, async () => organizations.platformCounts());
  };
}
