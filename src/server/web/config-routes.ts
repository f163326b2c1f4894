import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Config } from '../core/config.js';
import { errors } from '../core/http/schemas.js';

/**
 * `GET /api/v1/console/config`: what the console needs from the server's configuration: the address
 * devices are given (a RushRoster device's `cloud.api_url`) and the map's tile source.
 */
export function consoleConfigRoutes(config: Pick<Config, 'publicUrl' | 'mapTiles'>) {
  const body = { publicUrl: config.publicUrl, mapTiles: { ...config.mapTiles } };
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    app.get('/api/v1/console/config', {
      config: { access: 'authenticated' },
      schema: {
        tags: ['console'],
        summary: 'The server settings the web console uses: public URL and map tiles',
        response: {
          200: Type.Object({
            publicUrl: Type.String({ description: 'PUBLIC_URL: the address users and devices reach' }),
            mapTiles: Type.Object({
              url: Type.String({ description: 'MAP_TILE_URL: a {z}/{x}/{y} raster tile template' }),
              attribution: Type.String({ description: 'MAP_TILE_ATTRIBUTION' }),
            }),
          }),
          ...errors(401),
        },
      },
    }, async () => body);
  };
}
