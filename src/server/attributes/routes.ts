import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { scopeOf } from '../core/access.js';
import { requestActor } from '../audit/service.js';
import { notFound } from '../core/http/errors.js';
import { errors, Timestamp, Uuid } from '../core/http/schemas.js';
import { Page, PageQuery } from '../core/pagination.js';
import { ATTRIBUTE_LIMITS, type AttributesService } from './service.js';

const Scope = Type.Union([Type.Literal('client'), Type.Literal('shared')], {
  description: 'client: reported by the device (firmware version, IP…); shared: set by members for the device, pushed to it over MQTT',
});

const Attribute = Type.Object({
  scope: Scope,
  key: Type.String(),
  value: Type.Unknown({ description: 'A number, boolean, string or JSON' }),
  updatedAt: Timestamp,
});

const SharedValues = Type.Record(Type.String({ minLength: 1, maxLength: ATTRIBUTE_LIMITS.keyChars }), Type.Unknown(), {
  description: `Key → value (number, boolean, string or JSON, at most ${ATTRIBUTE_LIMITS.valueBytes} bytes of JSON each; null is refused). `
    + `A device has at most ${ATTRIBUTE_LIMITS.keysPerScope} shared attributes.`,
  examples: [{ safeRangeMin: 2, safeRangeMax: 8, reportEverySeconds: 60 }],
});

const DeviceParams = Type.Object({ id: Uuid });

export function attributeRoutes(attributes: AttributesService) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['attributes'];

    app.get('/api/v1/devices/:id/attributes', {
      config: { access: 'device.read' },
      schema: {
        tags, summary: "A device's attributes, client and shared, by scope then key",
        params: DeviceParams,
        querystring: Type.Intersect([PageQuery, Type.Object({ scope: Type.Optional(Scope) })]),
        response: { 200: Page(Attribute), ...errors(400, 401, 403, 404) },
      },
    }, async (request) => attributes.list(scopeOf(request), request.params.id, request.query));

    app.put('/api/v1/devices/:id/attributes/shared', {
      config: { access: 'device.write' },
      schema: {
        tags, summary: 'Set shared attributes of a device (others are kept)',
        description: 'All or nothing: one bad key refuses the request, with a reason per key. Audited (values of keys that look like secrets are '
          + 'not recorded). A connected device subscribed to v1/devices/me/attributes receives the new values at once.',
        params: DeviceParams, body: SharedValues,
        response: { 200: Type.Object({ keys: Type.Array(Type.String()) }), ...errors(400, 401, 403, 404, 422) },
      },
    }, async (request) => attributes.setShared(scopeOf(request), request.params.id, request.body, requestActor(request)));

    app.delete('/api/v1/devices/:id/attributes/shared/:key', {
      config: { access: 'device.write' },
      schema: {
        tags, summary: 'Delete a shared attribute of a device',
        description: 'Audited. A connected device subscribed to v1/devices/me/attributes receives {"deleted": ["key"]}.',
        params: Type.Object({ id: Uuid, key: Type.String({ minLength: 1, maxLength: ATTRIBUTE_LIMITS.keyChars }) }),
        response: { 204: Type.Null(), ...errors(401, 403, 404) },
      },
    }, async (request, reply) => {
      const { deleted } = await attributes.deleteShared(scopeOf(request), request.params.id, [request.params.key], requestActor(request));
      if (deleted.length === 0) throw notFound('shared attribute');
      return reply.code(204).send(null);
    });
  };
}
