import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { scopeOf } from '../core/access.js';
import { errors, Nullable, NullableTimestamp, Timestamp, Uuid } from '../core/http/schemas.js';
import { Page, PageQuery } from '../core/pagination.js';
import { requestActor } from '../audit/service.js';
import { MAX_ANSWER_BYTES } from './delivery.js';
import {
  DEFAULT_ONE_WAY_TIMEOUT_S, DEFAULT_TWO_WAY_TIMEOUT_S, MAX_ONE_WAY_TIMEOUT_S, MAX_PARAMS_BYTES, MAX_TWO_WAY_TIMEOUT_S, type CommandsService,
} from './service.js';

const Status = Type.Union(
  [
    Type.Literal('queued'), Type.Literal('sent'), Type.Literal('delivered'), Type.Literal('succeeded'), Type.Literal('failed'),
    Type.Literal('timed_out'), Type.Literal('expired'),
  ],
  {
    description: 'queued: waiting for the device; sent: a two-way command written to the device, waiting for its answer; delivered: a one-way '
      + 'command written to the device; succeeded: answered; failed: the answer was not JSON or too large; timed_out: sent but not '
      + 'answered in time; expired: the device did not connect before the timeout',
  },
);

const Command = Type.Object({
  id: Uuid,
  requestId: Type.Integer({ description: 'The id the device sees in v1/devices/me/rpc/request/{id} (and answers with)' }),
  deviceId: Uuid,
  method: Type.String(),
  params: Type.Unknown(),
  twoWay: Type.Boolean(),
  status: Status,
  response: Type.Unknown({ description: `The device's answer (JSON, at most ${MAX_ANSWER_BYTES} bytes); null until answered` }),
  error: Nullable(Type.String()),
  timeoutSeconds: Type.Integer(),
  deadline: Timestamp,
  createdBy: Nullable(Uuid),
  createdByLabel: Nullable(Type.String()),
  createdAt: Timestamp,
  sentAt: NullableTimestamp,
  answeredAt: NullableTimestamp,
});

const NewCommand = Type.Object({
  method: Type.String({ minLength: 1, maxLength: 128, description: 'What the device should do, e.g. reboot or setLimit (letters, digits, _ . : / -)' }),
  params: Type.Optional(Type.Unknown({ description: `Any JSON, at most ${MAX_PARAMS_BYTES} bytes; default {}` })),
  twoWay: Type.Optional(Type.Boolean({ description: 'Wait for the device to answer (default true)' })),
  timeoutSeconds: Type.Optional(Type.Integer({
    minimum: 1, maximum: MAX_ONE_WAY_TIMEOUT_S,
    description: `Two-way: how long to wait for the answer (1–${MAX_TWO_WAY_TIMEOUT_S}, default ${DEFAULT_TWO_WAY_TIMEOUT_S}). `
      + `One-way: how long the command waits for an offline device (up to ${MAX_ONE_WAY_TIMEOUT_S}, default ${DEFAULT_ONE_WAY_TIMEOUT_S})`,
  })),
});

const DeviceParams = Type.Object({ id: Uuid });
const CommandParams = Type.Object({ id: Uuid, commandId: Uuid });

export function commandRoutes(commands: CommandsService) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['commands'];

    app.post('/api/v1/devices/:id/commands', {
      config: { access: 'device.write' },
      schema: {
        tags,
        summary: 'Send a command (RPC) to a device',
        description: 'A two-way command waits for the answer: 200 with it, or 504 with the command when the device did not answer in time. '
          + 'A one-way command answers 202 once written to the device, or queued until it connects (or the command expires). Audited; '
          + 'rate-limited per device.',
        params: DeviceParams, body: NewCommand,
        response: { 200: Command, 202: Command, 504: Command, ...errors(400, 401, 403, 404, 429) },
      },
    }, async (request, reply) => {
      const outcome = await commands.send(scopeOf(request), request.params.id, request.body, requestActor(request));
      const status = outcome.kind === 'answered' ? 200 : outcome.kind === 'accepted' ? 202 : 504;
      return reply.code(status).send(outcome.command);
    });

    app.get('/api/v1/devices/:id/commands', {
      config: { access: 'device.read' },
      schema: { tags, summary: "A device's commands, newest first", params: DeviceParams, querystring: PageQuery, response: { 200: Page(Command), ...errors(400, 401, 403, 404) } },
    }, async (request) => commands.list(scopeOf(request), request.params.id, request.query));

    app.get('/api/v1/devices/:id/commands/:commandId', {
      config: { access: 'device.read' },
      schema: { tags, summary: 'One command and its answer', params: CommandParams, response: { 200: Command, ...errors(401, 403, 404) } },
    }, async (request) => commands.get(scopeOf(request), request.params.id, request.params.commandId));
  };
}
