import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { deviceOf } from '../core/access.js';
import { isDatabaseUnavailable } from '../core/db/database.js';
import { AppError } from '../core/http/errors.js';
import { readSingleFile, registerFileUploads } from '../core/http/uploads.js';
import type { Config } from '../core/config.js';
import { requestActor } from '../audit/service.js';
import type { EventPhotosService } from '../events/photos.js';
import type { RushRosterService } from './service.js';

const KEY_FORMAT = /^rushroster_[0-9a-f]{64}$/;

/**
 * RushRoster devices read `{"detail": …}` errors with the original status codes (FastAPI's): a missing
 * key or a malformed envelope is 422, a bad key 401 with the original wording.
 */
function compatibleErrors(error: FastifyError | AppError, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof AppError && error.status === 401) {
    const key = request.headers['x-api-key'];
    if (!key) return reply.code(422).send({ detail: [{ loc: ['header', 'x-api-key'], msg: 'Field required', type: 'missing' }] });
    return reply.code(401).send({ detail: typeof key === 'string' && KEY_FORMAT.test(key) ? 'Invalid or expired API key' : 'Invalid API key format' });
  }
  if (error instanceof AppError) {
    if (error.headers) reply.headers(error.headers);
    return reply.code(error.status === 400 ? 422 : error.status).send({ detail: error.message });
  }
  if ((error as FastifyError).validation || (error as FastifyError).statusCode === 400) {
    return reply.code(422).send({ detail: error.message });
  }
  if (isDatabaseUnavailable(error)) {
    // Not stored: the radar keeps the batch and sends it again.
    return reply.code(503).header('retry-after', '5').send({ detail: 'The database is unreachable; retry in a few seconds' });
  }
  const status = (error as FastifyError).statusCode ?? 500;
  if (status >= 500) request.log.error({ err: error }, 'unhandled error');
  return reply.code(status).send({ detail: status >= 500 ? 'Internal server error' : error.message });
}

export function rushRosterRoutes(rushroster: RushRosterService, photos: EventPhotosService, config: Config) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    app.setErrorHandler(compatibleErrors);
    // These endpoints speak only to RushRoster radars: another device kind's key is not theirs to use.
    app.addHook('onRequest', async (request) => {
      const key = request.headers['x-api-key'];
      if (typeof key === 'string' && !KEY_FORMAT.test(key)) throw new AppError(401, 'unauthorized', 'Invalid API key format');
    });
    const tags = ['rushroster'];
    const security = [{ deviceKey: [] }];

    app.post('/api/ingest/v1/events', {
      config: { access: 'device' },
      schema: {
        tags,
        security,
        summary: 'RushRoster device upload (wire-compatible): up to 1,000 events; invalid events are skipped and reported in "rejected"',
        body: Type.Object({ events: Type.Array(Type.Unknown(), { minItems: 1, maxItems: 1000 }) }),
      },
    }, async (request) => rushroster.upload(deviceOf(request), request.body.events));

    const EventParams = Type.Object({ id: Type.String({ maxLength: 40 }) });

    // The device posts with no body and no Content-Type.
    app.post('/api/ingest/v1/events/:id/photo/url', {
      config: { access: 'device' },
      schema: { tags, security, summary: 'RushRoster photo step 1: a signed upload URL (valid one hour) for one of the device\'s events', params: EventParams },
    }, async (request) => {
      const issued = await photos.issueUpload(deviceOf(request), request.params.id);
      return { event_id: issued.eventId, upload_url: issued.uploadUrl, photo_key: issued.photoKey, expires_in: issued.expiresIn };
    });

    // Step 2 carries no device key (the firmware sends none): the signed token in the URL is the credential.
    await registerFileUploads(app, config.mediaMaxBytes);
    app.addContentTypeParser(['image/jpeg', 'image/png', 'image/webp'], { parseAs: 'buffer', bodyLimit: config.mediaMaxBytes }, (_request, body, done) => done(null, body));
    app.put('/api/ingest/v1/photo-uploads/:token', {
      config: { access: 'public' },
      bodyLimit: config.mediaMaxBytes + 64 * 1024,
      schema: { tags, summary: 'RushRoster photo step 2: upload (multipart field "file", or a raw image body)', params: Type.Object({ token: Type.String({ maxLength: 1000 }) }) },
    }, async (request) => {
      let data: Buffer;
      if (request.isMultipart()) {
        data = (await readSingleFile(request)).data;
      } else if (Buffer.isBuffer(request.body)) {
        data = request.body;
      } else {
        throw new AppError(415, 'unsupported_upload', 'send the photo as multipart/form-data (field "file") or as a raw JPEG, PNG or WebP body');
      }
      const stored = await photos.acceptUpload(request.params.token, data);
      return { status: 'success', message: 'File uploaded successfully', key: stored.key, url: `/api/v1/events/${stored.eventId}/photo` };
    });

    app.post('/api/ingest/v1/events/:id/photo/confirm', {
      config: { access: 'device' },
      schema: {
        tags, security,
        summary: 'RushRoster photo step 3: attach the uploaded photo to the event',
        params: EventParams,
        querystring: Type.Object({ photo_key: Type.String({ minLength: 1, maxLength: 500 }) }),
      },
    }, async (request) => {
      const device = deviceOf(request);
      const actor = { ...requestActor(request), label: `device ${device.serial}` };
      const confirmed = await photos.confirm(device, request.params.id, request.query.photo_key, actor);
      return { status: 'success', message: 'Photo URL updated', photo_url: confirmed.photoUrl };
    });

    app.get('/api/ingest/v1/events', {
      config: { access: 'device' },
      schema: {
        tags,
        security,
        summary: 'RushRoster restore: the device\'s events, newest first',
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer()),
          // PostgreSQL's OFFSET is a bigint: a larger number is refused with 400, not failed by the statement.
          offset: Type.Optional(Type.Integer({ maximum: Number.MAX_SAFE_INTEGER })),
          speeding_only: Type.Optional(Type.Boolean()),
        }),
      },
    }, async (request) => rushroster.restore(deviceOf(request), request.query));

    app.post('/api/ingest/v1/heartbeat', {
      config: { access: 'device' },
      schema: { tags, security, summary: 'RushRoster heartbeat', body: Type.Optional(Type.Object({ timestamp: Type.Optional(Type.String()), status: Type.Optional(Type.Unknown()) })) },
    }, async (request) => ({ status: 'success', message: `Heartbeat received from device ${deviceOf(request).serial}` }));

    app.get('/api/ingest/v1/device/info', {
      config: { access: 'device' },
      schema: { tags, security, summary: 'RushRoster device information' },
    }, async (request) => rushroster.info(deviceOf(request)));

    app.get('/api/ingest/v1/device/stats', {
      config: { access: 'device' },
      schema: { tags, security, summary: 'RushRoster device statistics over the last hours', querystring: Type.Object({ hours: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 * 366 })) }) },
    }, async (request) => rushroster.stats(deviceOf(request), request.query.hours ?? 24));
  };
}
