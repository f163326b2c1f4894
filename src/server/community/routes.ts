import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { scopeOf } from '../core/access.js';
import { errors, IdParams, Uuid } from '../core/http/schemas.js';
import { Page, PageQuery } from '../core/pagination.js';
import { requestActor } from '../audit/service.js';
import { PUBLIC_MAX_AGE_SECONDS } from './public-cache.js';
import { Overview, PublicDevice, PublicDeviceDetail, Sharing, Speeder } from './schemas.js';
import type { CommunityService } from './service.js';

/** Members: whether a device is on the public pages. The organization's own opt-in is an organization setting. */
export function communityRoutes(community: CommunityService) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['community'];

    app.get('/api/v1/devices/:id/sharing', {
      config: { access: 'device.read' },
      schema: { tags, summary: 'Whether a device is shared on the public community pages', params: IdParams, response: { 200: Sharing, ...errors(401, 403, 404) } },
    }, async (request) => community.sharing(scopeOf(request), request.params.id));

    app.put('/api/v1/devices/:id/sharing', {
      config: { access: 'device.write' },
      schema: {
        tags,
        summary: 'Share a speed radar on the public community pages, or stop sharing it (audited; public only while the organization shares too)',
        params: IdParams,
        body: Type.Object({ shared: Type.Boolean() }),
        response: { 200: Sharing, ...errors(400, 401, 403, 404) },
      },
    }, async (request) => community.setSharing(scopeOf(request), request.params.id, request.body.shared, requestActor(request)));
  };
}

/** Anyone, without signing in: the shared devices of organizations that opted in. Rate limited per IP, cached briefly. */
export function publicCommunityRoutes(community: CommunityService) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['public'];
    const cacheable = `public, max-age=${PUBLIC_MAX_AGE_SECONDS}`;

    app.addHook('onRequest', async (request) => community.limit(request.ip));

    app.get('/api/v1/public/overview', {
      config: { access: 'public' },
      schema: { tags, summary: 'The community at a glance: shared devices, organizations, vehicles and speeders of the last 30 days', response: { 200: Overview, ...errors(429) } },
    }, async (_request, reply) => reply.header('cache-control', cacheable).send(await community.overview()));

    app.get('/api/v1/public/devices', {
      config: { access: 'public' },
      schema: { tags, summary: 'Shared devices, by name, with approximate locations', querystring: PageQuery, response: { 200: Page(PublicDevice), ...errors(400, 429) } },
    }, async (request, reply) => reply.header('cache-control', cacheable).send(await community.publicDevices(request.query)));

    app.get('/api/v1/public/devices/:id', {
      config: { access: 'public' },
      schema: { tags, summary: 'A shared device and its speed figures of the last 30 days; 404 for any device that is not public', params: IdParams, response: { 200: PublicDeviceDetail, ...errors(400, 404, 429) } },
    }, async (request, reply) => reply.header('cache-control', cacheable).send(await community.publicDevice(request.params.id)));

    app.get('/api/v1/public/speeders', {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Recent speeders (last 30 days) of all shared devices or of one, newest first',
        querystring: Type.Intersect([PageQuery, Type.Object({ deviceId: Type.Optional(Uuid) })]),
        response: { 200: Page(Speeder), ...errors(400, 404, 429) },
      },
    }, async (request, reply) => reply.header('cache-control', cacheable).send(await community.speeders(request.query)));

    app.get('/api/v1/public/photos/:id', {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'The thumbnail of a speeder\'s photo, through a link from a speeders list (an opaque token that expires); only while the organization allows public photos',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 300, description: 'the token of the link, not an event id' }) }),
        response: { 200: Type.Any({ description: 'the image' }), 302: Type.Null(), ...errors(400, 404, 410, 429) },
      },
    }, async (request, reply) => {
      const photo = await community.photo(request.params.id);
      if ('url' in photo) return reply.header('cache-control', 'no-store').redirect(photo.url, 302);
      return reply.type(photo.type).header('cache-control', 'public, max-age=300').send(photo.data);
    });
  };
}
