import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { credentialsOf, principalOf, scopeOf, type Authenticator, type Scope } from '../../core/access.js';
import { AppError } from '../../core/http/errors.js';
import { errors, IdParams } from '../../core/http/schemas.js';
import type { CamerasService } from '../service.js';
import { MJPEG_CONTENT_TYPE, MjpegWriter } from './mjpeg.js';
import type { LiveViewService, Viewer } from './service.js';

const mjpegStream = {
  description: 'MJPEG: one JPEG part per frame, the newest frame first, for as long as the connection stays open',
  content: { [MJPEG_CONTENT_TYPE]: { schema: Type.Unsafe<Buffer>({ type: 'string', format: 'binary' }) } },
};
const jpegImage = {
  description: 'The camera\'s latest frame (JPEG, at the camera\'s inference size)',
  content: { 'image/jpeg': { schema: Type.Unsafe<Buffer>({ type: 'string', format: 'binary' }) } },
};

function sameScope(a: Scope | null | undefined, b: Scope): boolean {
  return !!a && a.orgId === b.orgId && a.role === b.role && JSON.stringify(a.siteIds) === JSON.stringify(b.siteIds);
}

/** Why there is no picture, in words, from the camera's status. */
function noPicture(camera: { status: string; status_cause: string | null }): AppError {
  const reason = camera.status === 'offline'
    ? 'the camera is offline: no worker decodes it'
    : camera.status === 'error'
      ? `the camera has no picture: ${camera.status_cause ?? 'unknown cause'}`
      : 'no picture from the camera yet; try again in a few seconds';
  return new AppError(503, 'no_picture', reason, { status: camera.status, cause: camera.status_cause }, { 'retry-after': '5' });
}

/**
 * Live view: `GET /api/v1/cameras/{id}/stream` (MJPEG; the session cookie suffices, so an `<img>` shows it)
 * and `/snapshot` (the latest JPEG). An open stream re-checks the caller's access every
 * `recheckSeconds` and at once when access changes; it ends on sign-out, when the camera is deleted or
 * when the caller may no longer see it.
 */
export function liveRoutes(live: LiveViewService, cameras: CamerasService, authenticator: Authenticator, recheckSeconds: number) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['cameras'];
    // Open streams never end by themselves: shutting down must close them, or the server waits forever.
    const open = new Set<Viewer>();
    app.addHook('preClose', async () => {
      for (const viewer of [...open]) viewer.close('server shutting down; reconnect');
    });

    app.get('/api/v1/cameras/:id/stream', {
      config: { access: 'camera.read' },
      exposeHeadRoute: false,
      schema: {
        tags,
        summary: 'Live view (MJPEG, for an <img>): the camera\'s frames as they are decoded; ends on sign-out, loss of access or deletion of the camera',
        params: IdParams,
        response: { 200: mjpegStream, ...errors(401, 403, 404, 429) },
      },
    }, async (request, reply) => {
      const scope = scopeOf(request);
      const principal = principalOf(request);
      const credentials = credentialsOf(request);
      const cameraId = request.params.id;
      await cameras.get(scope, cameraId);

      const raw = reply.raw;
      const writer = new MjpegWriter(raw, () => live.frameDropped());
      let closed = false;
      const recheck = async () => {
        try {
          const identity = await authenticator.authenticate(credentials);
          if (!sameScope(identity?.scope, scope)) return viewer.close('access changed');
          await cameras.get(scope, cameraId);
        } catch (error) {
          if (error instanceof AppError && error.status === 404) viewer.close('the camera is no longer visible to you');
          // Anything else (the database away): keep streaming and check again next time.
        }
      };
      const viewer: Viewer = {
        userId: principal.userId,
        sessionId: principal.sessionId,
        deliver: (frame) => writer.deliver(frame),
        recheck: () => void recheck(),
        close: (reason) => {
          if (closed) return;
          closed = true;
          open.delete(viewer);
          clearInterval(recheckTimer);
          leave();
          request.log.debug({ cameraId, reason, sent: writer.sent, dropped: writer.dropped }, 'live view closed');
          writer.end();
        },
      };
      const { latest, leave } = live.join(cameraId, viewer); // 429 before anything is sent

      reply.hijack();
      raw.writeHead(200, {
        'content-type': MJPEG_CONTENT_TYPE,
        'cache-control': 'no-store, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-content-type-options': 'nosniff',
        'x-request-id': request.id,
      });
      raw.flushHeaders(); // the <img> knows at once that a picture is coming, even before the first frame
      open.add(viewer);
      const recheckTimer = setInterval(() => void recheck(), recheckSeconds * 1000);
      request.raw.on('close', () => viewer.close('viewer left'));
      if (latest) writer.deliver(latest);
    });

    app.get('/api/v1/cameras/:id/snapshot', {
      config: { access: 'camera.read' },
      schema: {
        tags,
        summary: 'The camera\'s latest frame as a JPEG; 503 with the reason when there is no picture (camera offline, in error, or starting)',
        params: IdParams,
        response: { 200: jpegImage, ...errors(401, 403, 404, 503) },
      },
    }, async (request, reply) => {
      const camera = await cameras.get(scopeOf(request), request.params.id);
      const frame = await live.snapshot(camera.id);
      if (!frame) throw noPicture(camera);
      return reply
        .header('content-type', 'image/jpeg')
        .header('cache-control', 'no-store')
        .header('x-frame-time', new Date(frame.at).toISOString())
        .send(frame.jpeg);
    });
  };
}
