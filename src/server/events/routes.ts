import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { scopeOf } from '../core/access.js';
import type { EventPhotosService } from './photos.js';

export function eventRoutes(photos: EventPhotosService) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();

    app.get('/api/v1/events/:id/photo', {
      config: { access: 'device.read' },
      schema: {
        tags: ['events'],
        summary: 'The photo of an event you may see (never a public link)',
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
      },
    }, async (request, reply) => {
      const photo = await photos.read(scopeOf(request), request.params.id);
      return reply.type(photo.type).header('cache-control', 'private, max-age=3600').send(photo.data);
    });
  };
}
