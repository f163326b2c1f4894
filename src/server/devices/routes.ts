import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { scopeOf } from '../core/access.js';
import { PageQuery, Page } from '../core/pagination.js';
import { errors, Nullable, IdParams, NoContent, NullableTimestamp, Timestamp, Uuid } from '../core/http/schemas.js';
import { requestActor } from '../audit/service.js';
import { presentDevice, presentKey, type DevicesService } from './service.js';

const Kind = Type.Union([Type.Literal('speed_radar'), Type.Literal('camera'), Type.Literal('refrigeration'), Type.Literal('sensor')]);
const Status = Type.Union([Type.Literal('online'), Type.Literal('offline'), Type.Literal('error')]);
const Units = Type.Union([Type.Literal('mph'), Type.Literal('kmh')]);

const Device = Type.Object({
  id: Uuid,
  siteId: Nullable(Uuid),
  kind: Kind,
  name: Type.String(),
  serial: Type.String(),
  lat: Nullable(Type.Number()),
  lon: Nullable(Type.Number()),
  speedLimit: Nullable(Type.Number()),
  speedUnits: Nullable(Units),
  settings: Type.Record(Type.String(), Type.Unknown()),
  status: Status,
  lastSeenAt: NullableTimestamp,
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

const DeviceKey = Type.Object({ id: Uuid, prefix: Type.String(), createdAt: Timestamp, lastUsedAt: NullableTimestamp, revokedAt: NullableTimestamp });
const NewKey = Type.Object({
  key: DeviceKey,
  apiKey: Type.String({ description: 'The secret key, shown only in this response; devices send it as X-API-Key' }),
});

const Editable = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  serial: Type.String({ minLength: 1, maxLength: 200 }),
  siteId: Type.Optional(Nullable(Uuid)),
  lat: Type.Optional(Nullable(Type.Number({ minimum: -90, maximum: 90 }))),
  lon: Type.Optional(Nullable(Type.Number({ minimum: -180, maximum: 180 }))),
  speedLimit: Type.Optional(Nullable(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 300 }))),
  speedUnits: Type.Optional(Nullable(Units)),
  settings: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
};

const KeyParams = Type.Object({ id: Uuid, keyId: Uuid });

/** Device pages go up to 1,000 (other lists stop at 200): the console's map loads a fleet in a request or a few. */
const DevicePageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
  cursor: PageQuery.properties.cursor,
});

export function deviceRoutes(devices: DevicesService) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['devices'];

    app.get('/api/v1/devices', {
      config: { access: 'device.read' },
      schema: {
        tags,
        summary: 'Devices you may see, by name',
        querystring: Type.Intersect([DevicePageQuery, Type.Object({
          kind: Type.Optional(Kind), status: Type.Optional(Status), siteId: Type.Optional(Uuid), search: Type.Optional(Type.String({ maxLength: 200 })),
        })]),
        response: { 200: Page(Device), ...errors(400, 401, 403) },
      },
    }, async (request) => {
      const page = await devices.list(scopeOf(request), request.query);
      return { items: page.items.map(presentDevice), nextCursor: page.nextCursor };
    });

    app.get('/api/v1/devices/summary', {
      config: { access: 'device.read' },
      schema: {
        tags,
        summary: 'How many devices you may see, by status and kind',
        response: {
          200: Type.Object({
            total: Type.Integer(), online: Type.Integer(), offline: Type.Integer(), error: Type.Integer(),
            byKind: Type.Record(Type.String(), Type.Integer()),
          }),
          ...errors(401, 403),
        },
      },
    }, async (request) => devices.summary(scopeOf(request)));

    app.post('/api/v1/devices', {
      config: { access: 'device.write' },
      schema: {
        tags,
        summary: 'Register a device; its first key is in the response, shown only once',
        body: Type.Object({ kind: Kind, ...Editable }),
        response: { 201: Type.Object({ device: Device, key: DeviceKey, apiKey: Type.String() }), ...errors(400, 401, 403, 409) },
      },
    }, async (request, reply) => {
      const created = await devices.create(scopeOf(request), request.body, requestActor(request));
      return reply.code(201).send({ device: presentDevice(created.device), key: presentKey(created.keyRow), apiKey: created.key });
    });

    app.get('/api/v1/devices/:id', {
      config: { access: 'device.read' },
      schema: { tags, summary: 'One device', params: IdParams, response: { 200: Device, ...errors(401, 403, 404) } },
    }, async (request) => presentDevice(await devices.get(scopeOf(request), request.params.id)));

    app.patch('/api/v1/devices/:id', {
      config: { access: 'device.write' },
      schema: {
        tags,
        summary: 'Change a device',
        params: IdParams,
        body: Type.Object({ ...Editable, name: Type.Optional(Editable.name), serial: Type.Optional(Editable.serial) }, { minProperties: 1 }),
        response: { 200: Device, ...errors(400, 401, 403, 404, 409) },
      },
    }, async (request) => presentDevice(await devices.update(scopeOf(request), request.params.id, request.body, requestActor(request))));

    app.delete('/api/v1/devices/:id', {
      config: { access: 'device.write' },
      schema: { tags, summary: 'Delete a device and its keys', params: IdParams, response: { 204: NoContent, ...errors(401, 403, 404) } },
    }, async (request, reply) => {
      await devices.remove(scopeOf(request), request.params.id, requestActor(request));
      return reply.code(204).send(null);
    });

    app.get('/api/v1/devices/:id/keys', {
      config: { access: 'device.write' },
      schema: { tags, summary: 'Keys of a device (prefix, created, last used)', params: IdParams, querystring: PageQuery, response: { 200: Page(DeviceKey), ...errors(401, 403, 404) } },
    }, async (request) => {
      const page = await devices.listKeys(scopeOf(request), request.params.id, request.query);
      return { items: page.items.map(presentKey), nextCursor: page.nextCursor };
    });

    app.post('/api/v1/devices/:id/keys', {
      config: { access: 'device.write' },
      schema: { tags, summary: 'Add a key to a device (shown once)', params: IdParams, response: { 201: NewKey, ...errors(401, 403, 404) } },
    }, async (request, reply) => {
      const created = await devices.createKey(scopeOf(request), request.params.id, requestActor(request));
      return reply.code(201).send({ key: presentKey(created.keyRow), apiKey: created.key });
    });

    app.post('/api/v1/devices/:id/keys/:keyId/rotate', {
      config: { access: 'device.write' },
      schema: { tags, summary: 'Replace a key: the new one is shown once, the old one stops working at once', params: KeyParams, response: { 201: NewKey, ...errors(401, 403, 404) } },
    }, async (request, reply) => {
      const created = await devices.createKey(scopeOf(request), request.params.id, requestActor(request), request.params.keyId);
      return reply.code(201).send({ key: presentKey(created.keyRow), apiKey: created.key });
    });

    app.delete('/api/v1/devices/:id/keys/:keyId', {
      config: { access: 'device.write' },
      schema: { tags, summary: 'Revoke a device key', params: KeyParams, response: { 204: NoContent, ...errors(401, 403, 404) } },
    }, async (request, reply) => {
      await devices.revokeKey(scopeOf(request), request.params.id, request.params.keyId, requestActor(request));
      return reply.code(204).send(null);
    });
  };
}
