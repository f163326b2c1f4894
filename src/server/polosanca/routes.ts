import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { deviceOf } from '../core/access.js';
import { errors } from '../core/http/schemas.js';
import type { PoloSancaService } from './service.js';

export function poloSancaRoutes(polosanca: PoloSancaService) {
  return async function routes(app: FastifyInstance): Promise<void> {
    app.post<{ Body: Record<string, unknown> }>('/v1/equipments/telemetry', {
      config: { access: 'device' },
      schema: {
        tags: ['polosanca'],
        security: [{ deviceKey: [] }],
        summary: 'Polo Sanca equipment reading (wire-compatible): JSON or form data with serial, temperature, pressure, door, heater, compressor, fan',
        response: {
          200: Type.Object({ success: Type.Boolean(), message: Type.String(), timestamp: Type.String(), record_id: Type.String() }),
          ...errors(400, 401, 404, 409, 422, 429, 503),
        },
      },
    }, async (request) => polosanca.record(deviceOf(request), request.body));
  };
}
