import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { scopeOf } from '../../core/access.js';
import type { AppContext } from '../../core/context.js';
import { badRequest, invalidFields } from '../../core/http/errors.js';
import { errors, IdParams, Nullable } from '../../core/http/schemas.js';
import { RateLimit, redisOf } from '../../core/rate-limit.js';
import type { CamerasService } from '../service.js';
import { rtspUrlProblem } from '../settings.js';
import type { DecoderSupervisor } from './supervisor.js';
import { testConnection } from './test-connection.js';

/** Connection tests by one admin per minute: each one opens a connection from the server to an address. */
const TESTS_PER_MINUTE = 10;
/** The whole test, so the answer comes within 10 s with room for the request itself. */
const TEST_TIMEOUT_MS = 8000;

const Transport = Type.Union([Type.Literal('tcp'), Type.Literal('udp')]);

const TestResult = Type.Object({
  ok: Type.Boolean(),
  width: Type.Optional(Type.Integer({ description: 'frame size of the source, when ok' })),
  height: Type.Optional(Type.Integer()),
  cause: Type.Optional(Type.String({ description: 'why no picture came, when not ok' })),
  elapsedMs: Type.Integer(),
});

const UnsavedSource = Type.Object({
  rtspUrl: Type.String({ minLength: 1, maxLength: 2000, description: 'rtsp:// or rtsps://, without user name or password' }),
  rtspTransport: Type.Optional(Transport),
  username: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  password: Type.Optional(Type.String({ maxLength: 500 })),
}, { additionalProperties: false });

const DecoderState = Type.Object({
  running: Type.Boolean({ description: 'this server process decodes the camera' }),
  status: Type.Optional(Type.String()),
  cause: Type.Optional(Nullable(Type.String())),
  failuresInARow: Type.Optional(Type.Integer()),
  fallbackActive: Type.Optional(Type.Boolean({ description: 'the placeholder video stands in for the camera' })),
  latestFrameAt: Type.Optional(Nullable(Type.String({ format: 'date-time' }))),
  stderrTail: Type.Optional(Type.Array(Type.String(), { description: 'the last ffmpeg messages, credentials removed' })),
});

/** Connection tests and the decoder's state, for admins. */
export function decoderRoutes(ctx: AppContext, cameras: CamerasService, decoders: DecoderSupervisor) {
  const limit = new RateLimit('camera-test', TESTS_PER_MINUTE, 60, redisOf(ctx));
  const ffmpegPath = ctx.config.ffmpegPath;
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['cameras'];

    app.post('/api/v1/cameras/:id/test', {
      config: { access: 'camera.write' },
      schema: {
        tags, summary: `Open the camera's stream once with its saved address and credentials: ok with the frame size, or the cause (within 10 s; ${TESTS_PER_MINUTE} a minute)`,
        params: IdParams, response: { 200: TestResult, ...errors(400, 401, 403, 404, 429) },
      },
    }, async (request) => {
      const scope = scopeOf(request);
      await cameras.get(scope, request.params.id);
      await limit.consume(scope.userId);
      const source = await cameras.sourceFor(request.params.id);
      if (!source.rtspUrl) throw badRequest('the camera has no RTSP address: set rtspUrl first', [{ field: 'rtspUrl', message: 'is not set' }]);
      return testConnection(ffmpegPath, { rtspUrl: source.rtspUrl, transport: source.rtspTransport, credentials: source.credentials }, TEST_TIMEOUT_MS);
    });

    app.post('/api/v1/cameras/test', {
      config: { access: 'camera.write' },
      schema: {
        tags, summary: `Try an address before saving it (credentials optional, never stored): ok with the frame size, or the cause (within 10 s; ${TESTS_PER_MINUTE} a minute)`,
        body: UnsavedSource, response: { 200: TestResult, ...errors(400, 401, 403, 429) },
      },
    }, async (request) => {
      const scope = scopeOf(request);
      const { rtspUrl, rtspTransport, username, password } = request.body;
      const problem = rtspUrlProblem(rtspUrl);
      if (problem) throw invalidFields([problem]);
      if ((username === undefined) !== (password === undefined)) {
        throw invalidFields([{ field: username === undefined ? 'username' : 'password', message: 'give both the user name and the password, or neither' }]);
      }
      await limit.consume(scope.userId);
      const credentials = username !== undefined && password !== undefined ? { username, password } : null;
      return testConnection(ffmpegPath, { rtspUrl, transport: rtspTransport ?? 'tcp', credentials }, TEST_TIMEOUT_MS);
    });

    app.get('/api/v1/cameras/:id/decoder', {
      config: { access: 'camera.write' },
      schema: {
        tags, summary: 'The camera\'s decoder on this server: status, cause, placeholder fallback and the last ffmpeg messages',
        params: IdParams, response: { 200: DecoderState, ...errors(401, 403, 404) },
      },
    }, async (request) => {
      await cameras.get(scopeOf(request), request.params.id);
      const state = decoders.state(request.params.id);
      if (!state) return { running: false };
      return { running: true, ...state, latestFrameAt: state.latestFrameAt === null ? null : new Date(state.latestFrameAt).toISOString() };
    });
  };
}
