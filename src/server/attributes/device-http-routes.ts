import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { deviceOfPathKey, type DeviceAuthenticator, type DevicePrincipal } from '../core/access.js';
import type { Config } from '../core/config.js';
import { AppError } from '../core/http/errors.js';
import { errors } from '../core/http/schemas.js';
import { receiveClock } from '../ingest/receive-clock.js';
import { ingestBodyLimitBytes, type IngestService } from '../ingest/service.js';
import { PayloadError, telemetryItems } from '../mqtt/payloads.js';
import { ATTRIBUTE_LIMITS, attributeRequest, type AttributesService } from './service.js';

const Token = Type.String({ minLength: 1, maxLength: 200, description: "The device's key (ThingsBoard's access token)" });
const TokenParams = Type.Object({ accessToken: Token });
const Rejected = Type.Array(Type.Object({
  index: Type.Integer(),
  errors: Type.Array(Type.Object({ field: Type.String(), message: Type.String() })),
}));
const Values = Type.Record(Type.String(), Type.Unknown());

/**
 * ThingsBoard's HTTP device API for devices that post instead of holding an MQTT connection, onto the same
 * services as Vigil's own device API: telemetry in ThingsBoard's shapes, client attributes, and attribute
 * values on request. The access token in the path is the device key (an unknown or revoked one: 401).
 */
export function attributeDeviceHttpRoutes(devices: DeviceAuthenticator, ingest: IngestService, attributes: AttributesService, config: Config) {
  const deviceOf = (token: string): Promise<DevicePrincipal> => deviceOfPathKey(devices, token);

  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['device API (ThingsBoard HTTP)'];
    const bodyLimit = ingestBodyLimitBytes(config);

    app.post('/api/v1/:accessToken/telemetry', {
      config: { access: 'public' },
      bodyLimit,
      schema: {
        tags,
        summary: 'Send telemetry (ThingsBoard shapes)',
        description: 'A flat object of key → value ("now"), {"ts": epoch ms, "values": {…}}, or an array of either. Stored by the same '
          + 'ingest as POST /api/v1/ingest/telemetry, with the same answer: a key refused on its own is listed under its item in `rejected`.',
        params: TokenParams,
        body: Type.Unknown({ examples: [{ temperature: 4.2, door: false, firmware: 'v1.2.2' }] }),
        response: {
          200: Type.Object({ accepted: Type.Integer(), duplicates: Type.Integer(), rejected: Rejected, values: Type.Integer() }),
          ...errors(400, 401, 413, 415, 422, 429),
        },
      },
    }, async (request) => {
      const device = await deviceOf(request.params.accessToken);
      let items: unknown[];
      try {
        items = telemetryItems(request.body, (count) => receiveClock.reserve(device.deviceId, count));
      } catch (error) {
        if (error instanceof PayloadError) throw new AppError(400, error.code, error.message);
        throw error;
      }
      return ingest.ingestTelemetry(device, items);
    });

    app.post('/api/v1/:accessToken/attributes', {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Report client attributes (firmware version, IP…)',
        description: `An object of key → value (number, boolean, string or JSON; keys of 1–${ATTRIBUTE_LIMITS.keyChars} characters, values `
          + `at most ${ATTRIBUTE_LIMITS.valueBytes} bytes of JSON, at most ${ATTRIBUTE_LIMITS.keysPerScope} client attributes per device). `
          + 'All or nothing: one bad key refuses the request, with a reason per key.',
        params: TokenParams,
        body: Type.Unknown({ examples: [{ firmwareVersion: '1.4.2', ip: '10.0.4.17' }] }),
        response: { 200: Type.Object({ stored: Type.Integer() }), ...errors(400, 401, 413, 415, 422, 429) },
      },
    }, async (request) => attributes.reportClient(await deviceOf(request.params.accessToken), request.body));

    app.get('/api/v1/:accessToken/attributes', {
      config: { access: 'public' },
      schema: {
        tags,
        summary: "The device's attribute values",
        description: 'clientKeys and sharedKeys are comma-separated keys. Without either, every attribute of both scopes; with one, only the keys asked for.',
        params: TokenParams,
        querystring: Type.Object({
          clientKeys: Type.Optional(Type.String({ maxLength: 20_000 })),
          sharedKeys: Type.Optional(Type.String({ maxLength: 20_000 })),
        }),
        response: { 200: Type.Object({ client: Values, shared: Values }), ...errors(400, 401) },
      },
    }, async (request) => {
      const device = await deviceOf(request.params.accessToken);
      return attributes.forDevice(device, attributeRequest(request.query.clientKeys, request.query.sharedKeys));
    });
  };
}
