import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { deviceOfPathKey, type DeviceAuthenticator, type DevicePrincipal } from '../core/access.js';
import { AppError, badRequest, notFound } from '../core/http/errors.js';
import { errors } from '../core/http/schemas.js';
import { answerClientRequest } from './client-rpc.js';
import { MAX_ANSWER_BYTES, type CommandDelivery } from './delivery.js';
import type { CommandLongPolls } from './long-poll.js';
import type { SessionLimits } from './session-limits.js';

/** The longest a poll may wait (ThingsBoard's default request timeout); the default when `timeout` is absent. */
export const MAX_POLL_MS = 60_000;

const Token = Type.String({ minLength: 1, maxLength: 200, description: "The device's key (ThingsBoard's access token)" });
const PollQuery = Type.Object({
  timeout: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_POLL_MS, description: `How long to wait for a command, in ms (default ${MAX_POLL_MS})` })),
});
const Command = Type.Object({
  id: Type.Integer({ description: 'The request id to answer with' }),
  method: Type.String(),
  params: Type.Unknown(),
});
const ClientRequest = Type.Object({ method: Type.String({ minLength: 1, maxLength: 128 }), params: Type.Optional(Type.Unknown()) });
// An answer without a body, as ThingsBoard's (declared for the OpenAPI document; nothing is serialized).
const Empty = Type.Unsafe<undefined>({ description: 'No body' });

/**
 * Commands over ThingsBoard's HTTP device API, for devices that poll instead of holding an MQTT connection:
 * `GET /api/v1/{token}/rpc?timeout=ms` waits for the next command (408 without a body when none came),
 * `POST /api/v1/{token}/rpc/{id}` answers it, `POST /api/v1/{token}/rpc` asks Vigil (client-side RPC;
 * `limits`: those of the HTTP device API, for getSessionLimits).
 */
export function commandDeviceHttpRoutes(devices: DeviceAuthenticator, delivery: CommandDelivery, polls: CommandLongPolls, limits: SessionLimits) {
  const deviceOf = (token: string): Promise<DevicePrincipal> => deviceOfPathKey(devices, token);

  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['device API (ThingsBoard HTTP)'];

    app.get('/api/v1/:accessToken/rpc', {
      config: { access: 'public' },
      schema: {
        tags, summary: "Wait for the device's next command (long poll)",
        params: Type.Object({ accessToken: Token }), querystring: PollQuery,
        response: { 200: Command, 408: Empty, ...errors(400, 401, 429) },
      },
    }, async (request, reply) => {
      const device = await deviceOf(request.params.accessToken);
      const raw = request.raw;
      const gone = {
        get closed() {
          return raw.destroyed || reply.raw.destroyed;
        },
        onClose(listener: () => void) {
          reply.raw.once('close', listener);
        },
      };
      const command = await polls.next(device, request.query.timeout ?? MAX_POLL_MS, gone);
      if (!command) return reply.code(408).send();
      return { id: command.requestId, method: command.method, params: command.params };
    });

    app.post('/api/v1/:accessToken/rpc/:requestId', {
      config: { access: 'public' },
      bodyLimit: MAX_ANSWER_BYTES,
      schema: {
        tags, summary: 'Answer a two-way command', description: `The body is the answer: any JSON, at most ${MAX_ANSWER_BYTES} bytes.`,
        params: Type.Object({ accessToken: Token, requestId: Type.Integer({ minimum: 1 }) }),
        response: { 200: Empty, ...errors(400, 401, 404, 413, 415) },
      },
    }, async (request, reply) => {
      const device = await deviceOf(request.params.accessToken);
      // The body limit already keeps the answer within MAX_ANSWER_BYTES.
      const answer = await delivery.answer(device, request.params.requestId, request.body ?? null, 0);
      if (answer.outcome === 'unknown') throw notFound('a two-way command of this device waiting for an answer with this id');
      if (answer.outcome === 'refused') throw badRequest(`${answer.reason}; the command failed`);
      return reply.code(200).send();
    });

    app.post('/api/v1/:accessToken/rpc', {
      config: { access: 'public' },
      bodyLimit: 16 * 1024,
      schema: {
        tags, summary: 'Ask Vigil (client-side RPC): getCurrentTime answers the server clock in epoch ms, getSessionLimits the limits of this API',
        description: `getSessionLimits answers ThingsBoard's SessionLimits; on this server: \`${JSON.stringify(limits)}\``,
        params: Type.Object({ accessToken: Token }), body: ClientRequest,
        response: { 200: Type.Unknown(), ...errors(400, 401) },
      },
    }, async (request) => {
      await deviceOf(request.params.accessToken);
      const answer = answerClientRequest(request.body, limits);
      if (!answer.ok) throw new AppError(400, 'unknown_method', answer.error);
      return answer.result;
    });
  };
}
