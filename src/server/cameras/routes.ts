import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { scopeOf } from '../core/access.js';
import { roleMay } from '../core/permissions.js';
import { AppError } from '../core/http/errors.js';
import { readSingleFile, registerFileUploads } from '../core/http/uploads.js';
import { errors, IdParams, Nullable, Timestamp, Uuid } from '../core/http/schemas.js';
import { Page, PageQuery } from '../core/pagination.js';
import { requestActor } from '../audit/service.js';
import { presentCamera, type CamerasService } from './service.js';
import {
  DETECTION_CONFIDENCE_MAX, DETECTION_CONFIDENCE_MIN, INFERENCE_PRESETS, INFERENCE_SIZE_MAX, INFERENCE_SIZE_MIN, MASKS_MAX,
  MIN_PERSON_AREA_MAX, POLYGON_POINTS_MAX, POLYGON_POINTS_MIN, STATUS_HISTORY_PER_CAMERA, TARGET_FPS_MAX, TARGET_FPS_MIN, TARGET_FPS_PRESETS, ZONES_MAX,
} from './settings.js';

const Source = Type.Union([Type.Literal('rtsp'), Type.Literal('file')]);
const Transport = Type.Union([Type.Literal('tcp'), Type.Literal('udp')]);
const Status = Type.Union([Type.Literal('connecting'), Type.Literal('online'), Type.Literal('error'), Type.Literal('offline')]);
const Position = Type.Object({ x: Type.Number({ minimum: 0, maximum: 1 }), y: Type.Number({ minimum: 0, maximum: 1 }) }, { description: 'on the site\'s floor plan, as fractions of its width and height from the top left' });

const Fraction = Type.Number({ minimum: 0, maximum: 1 });
const Polygon = Type.Array(Type.Tuple([Fraction, Fraction]), {
  minItems: POLYGON_POINTS_MIN, maxItems: POLYGON_POINTS_MAX,
  description: `${POLYGON_POINTS_MIN} to ${POLYGON_POINTS_MAX} [x, y] points, fractions (0–1) of the picture's width and height from its top left`,
});
const Zone = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S', description: 'unique on the camera, e.g. "Crane swing"' }),
  polygon: Polygon,
}, { additionalProperties: false });
const DetectionMode = Type.Union([Type.Literal('ppe'), Type.Literal('zone'), Type.Literal('both'), Type.Literal('off')], {
  description: 'ppe: hard hats and vests; zone: restricted zones; both; off: the camera only streams',
});
const DetectionSettings = Type.Object({
  mode: Type.Optional(DetectionMode),
  confidence: Type.Optional(Type.Number({ minimum: DETECTION_CONFIDENCE_MIN, maximum: DETECTION_CONFIDENCE_MAX, description: 'least score of a detection (default 0.25)' })),
  zones: Type.Optional(Type.Array(Zone, { maxItems: ZONES_MAX, description: 'restricted zones: a person whose feet are inside one breaches it' })),
  masks: Type.Optional(Type.Array(Polygon, { maxItems: MASKS_MAX, description: 'areas whose detections are ignored (a poster, a mirror, the street)' })),
  minPersonArea: Type.Optional(Type.Number({ minimum: 0, maximum: MIN_PERSON_AREA_MAX, description: 'least person box as a share of the picture (default 0.001)' })),
}, { additionalProperties: false, minProperties: 1 });
const Detection = Type.Object({
  mode: DetectionMode,
  confidence: Type.Number(),
  zones: Type.Array(Zone),
  masks: Type.Array(Polygon),
  minPersonArea: Type.Number(),
  status: Type.Union([Type.Literal('idle'), Type.Literal('running'), Type.Literal('off'), Type.Literal('error')], {
    description: 'idle: no worker runs the camera; running; off: no model installed, or mode off; error: the model cannot be used',
  }),
  statusCause: Nullable(Type.String({ description: 'e.g. "detection off: no model installed (no file at …)"' })),
});

const Camera = Type.Object({
  id: Uuid,
  siteId: Nullable(Uuid),
  name: Type.String(),
  serial: Type.String(),
  source: Source,
  rtspUrl: Nullable(Type.String()),
  rtspTransport: Transport,
  hasCredentials: Type.Boolean({ description: 'credentials are set; they are never returned' }),
  placeholder: Nullable(Type.Object({
    fileName: Type.String(), contentType: Type.String(), sizeBytes: Type.Integer(), width: Type.Integer(), height: Type.Integer(), durationSeconds: Type.Number(), uploadedAt: Timestamp,
  })),
  usePlaceholder: Type.Boolean(),
  inferenceSize: Type.Integer(),
  targetFps: Type.Number(),
  zone: Type.String(),
  position: Nullable(Position),
  lat: Nullable(Type.Number()),
  lon: Nullable(Type.Number()),
  fallbackAfterFailures: Type.Integer(),
  status: Status,
  statusCause: Nullable(Type.String()),
  statusChangedAt: Timestamp,
  detection: Detection,
  createdAt: Timestamp,
  updatedAt: Timestamp,
  worker: Type.Optional(Nullable(Type.Object({
    id: Type.String({ description: 'host name and process id of the worker, e.g. "vigil-worker-2:4113"' }),
    since: Timestamp,
    heartbeatAt: Timestamp,
  }, { description: 'admins only: the worker process decoding the camera and since when; null while no worker holds it' }))),
});

const StatusChange = Type.Object({
  status: Status,
  cause: Nullable(Type.String({ description: 'why, in words, e.g. "401 unauthorized"; null when there is nothing to say' })),
  at: Timestamp,
});

const Settings = Type.Object({
  source: Type.Optional(Source),
  rtspUrl: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 2000, description: 'rtsp:// or rtsps://, without user name or password' }))),
  rtspTransport: Type.Optional(Transport),
  usePlaceholder: Type.Optional(Type.Boolean({ description: 'play the placeholder video instead of the camera' })),
  inferenceSize: Type.Optional(Type.Integer({ minimum: INFERENCE_SIZE_MIN, maximum: INFERENCE_SIZE_MAX, description: 'square frame size for detection: 640, 720, 1080 or any size up to 1920' })),
  targetFps: Type.Optional(Type.Number({ minimum: TARGET_FPS_MIN, maximum: TARGET_FPS_MAX, description: 'frames analysed per second' })),
  zone: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'the area the camera watches, e.g. "Loading bay"' })),
  position: Type.Optional(Nullable(Position)),
  lat: Type.Optional(Nullable(Type.Number({ minimum: -90, maximum: 90 }))),
  lon: Type.Optional(Nullable(Type.Number({ minimum: -180, maximum: 180 }))),
  fallbackAfterFailures: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'failed connection attempts before the placeholder video is played' })),
  detection: Type.Optional(DetectionSettings),
}, { minProperties: 1, additionalProperties: false });

const Credentials = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 200 }),
  password: Type.String({ maxLength: 500 }),
}, { additionalProperties: false });

const Presets = Type.Object({
  inferenceSizes: Type.Array(Type.Object({ name: Type.String(), size: Type.Integer() })),
  inferenceSizeMin: Type.Integer(),
  inferenceSizeMax: Type.Integer(),
  targetFps: Type.Array(Type.Number()),
  targetFpsMin: Type.Number(),
  targetFpsMax: Type.Number(),
});

export function cameraRoutes(cameras: CamerasService, maxPlaceholderBytes: number) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['cameras'];
    await registerFileUploads(app, maxPlaceholderBytes);

    app.get('/api/v1/cameras', {
      config: { access: 'camera.read' },
      schema: {
        tags, summary: 'Cameras you may see, by name (register one as a device of kind "camera")',
        querystring: Type.Intersect([PageQuery, Type.Object({ siteId: Type.Optional(Uuid), status: Type.Optional(Status), zone: Type.Optional(Type.String({ maxLength: 100 })) })]),
        response: { 200: Page(Camera), ...errors(400, 401, 403) },
      },
    }, async (request) => {
      const scope = scopeOf(request);
      const page = await cameras.list(scope, request.query);
      const showWorker = roleMay(scope.role, 'camera.write');
      return { items: page.items.map((camera) => presentCamera(camera, showWorker)), nextCursor: page.nextCursor };
    });

    app.get('/api/v1/cameras/presets', {
      config: { access: 'camera.read' },
      schema: { tags, summary: 'The inference sizes and frame rates a camera offers', response: { 200: Presets, ...errors(401, 403) } },
    }, async () => ({
      inferenceSizes: INFERENCE_PRESETS.map((p) => ({ ...p })), inferenceSizeMin: INFERENCE_SIZE_MIN, inferenceSizeMax: INFERENCE_SIZE_MAX,
      targetFps: [...TARGET_FPS_PRESETS], targetFpsMin: TARGET_FPS_MIN, targetFpsMax: TARGET_FPS_MAX,
    }));

    app.get('/api/v1/cameras/:id', {
      config: { access: 'camera.read' },
      schema: { tags, summary: 'One camera and its settings (never its credentials)', params: IdParams, response: { 200: Camera, ...errors(401, 403, 404) } },
    }, async (request) => {
      const scope = scopeOf(request);
      return presentCamera(await cameras.get(scope, request.params.id), roleMay(scope.role, 'camera.write'));
    });

    app.get('/api/v1/cameras/:id/status-history', {
      config: { access: 'camera.read' },
      schema: {
        tags, summary: `A camera's status changes, newest first (the newest ${STATUS_HISTORY_PER_CAMERA} are kept)`,
        params: IdParams, querystring: PageQuery, response: { 200: Page(StatusChange), ...errors(400, 401, 403, 404) },
      },
    }, async (request) => cameras.statusHistory(scopeOf(request), request.params.id, request.query));

    app.patch('/api/v1/cameras/:id', {
      config: { access: 'camera.write' },
      schema: { tags, summary: 'Change a camera\'s settings (audited)', params: IdParams, body: Settings, response: { 200: Camera, ...errors(400, 401, 403, 404) } },
    }, async (request) => presentCamera(await cameras.configure(scopeOf(request), request.params.id, request.body, requestActor(request))));

    app.put('/api/v1/cameras/:id/credentials', {
      config: { access: 'camera.write' },
      schema: {
        tags, summary: 'Set the RTSP user name and password (stored encrypted, never returned)', params: IdParams, body: Credentials,
        response: { 200: Camera, ...errors(400, 401, 403, 404) },
      },
    }, async (request) => presentCamera(await cameras.setCredentials(scopeOf(request), request.params.id, request.body, requestActor(request))));

    app.delete('/api/v1/cameras/:id/credentials', {
      config: { access: 'camera.write' },
      schema: { tags, summary: 'Remove the RTSP credentials', params: IdParams, response: { 200: Camera, ...errors(401, 403, 404) } },
    }, async (request) => presentCamera(await cameras.setCredentials(scopeOf(request), request.params.id, null, requestActor(request))));

    app.post('/api/v1/cameras/:id/placeholder', {
      config: { access: 'camera.write' },
      schema: {
        tags, summary: `Upload the placeholder video (MP4 or WebM, multipart field "file", at most ${Math.floor(maxPlaceholderBytes / (1024 * 1024))} MB): checked with ffprobe before it is accepted`,
        consumes: ['multipart/form-data'], params: IdParams, response: { 200: Camera, ...errors(400, 401, 403, 404, 413, 415) },
      },
    }, async (request) => {
      const scope = scopeOf(request);
      await cameras.get(scope, request.params.id);
      const upload = await readVideo(request, maxPlaceholderBytes);
      return presentCamera(await cameras.setPlaceholder(scope, request.params.id, upload, requestActor(request)));
    });
  };
}

/** The uploaded video; an oversize one is refused with this route's own limit. */
async function readVideo(request: FastifyRequest, maxBytes: number) {
  try {
    return await readSingleFile(request);
  } catch (error) {
    if (!(error instanceof AppError) || error.code !== 'file_too_large') throw error;
    const limit = maxBytes >= 1024 * 1024 ? `${Math.floor(maxBytes / (1024 * 1024))} MB` : `${maxBytes} bytes`;
    throw new AppError(413, 'file_too_large', `a placeholder video may be at most ${limit}`, [{ field: 'file', message: `is larger than ${limit}` }]);
  }
}
