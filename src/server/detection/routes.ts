import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { scopeOf } from '../core/access.js';
import type { Db } from '../core/db/database.js';
import { errors, IdParams, Nullable, Uuid } from '../core/http/schemas.js';
import type { CamerasService } from '../cameras/service.js';
import { requestActor } from '../audit/service.js';
import type { DetectionModels } from './models.js';
import { cameraStatistics, MAX_RANGE_DAYS, organizationStatistics, violationHours } from './statistics.js';

const Day = Type.String({ format: 'date', description: 'a calendar day, YYYY-MM-DD (the camera\'s local day)' });
const Range = Type.Object({
  from: Type.Optional(Day),
  to: Type.Optional(Day),
}, { description: `days from "from" to "to" inclusive, at most ${MAX_RANGE_DAYS}; default the last 7 days` });
const Counts = {
  framesDecoded: Type.Integer({ description: 'frames the camera\'s decoder delivered' }),
  framesInferred: Type.Integer({ description: 'frames the model ran on (motion, or a re-check of people standing still)' }),
  framesSkipped: Type.Integer({ description: 'frames that arrived while the previous one was still being analysed' }),
  framesFailed: Type.Integer({ description: 'frames that could not be read' }),
  inferenceMsAverage: Nullable(Type.Number({ description: 'onnxruntime\'s time per inferred frame, ms' })),
  pipelineMsAverage: Nullable(Type.Number({ description: 'the whole analysis per inferred frame (decode, letterbox, model, tracking, rules), ms' })),
  violations: Type.Object({ no_hardhat: Type.Integer(), no_vest: Type.Integer(), zone_breach: Type.Integer() }, { description: 'violations opened, by rule' }),
};
const DayCounts = Type.Object({ day: Type.String(), ...Counts });
const Totals = Type.Object(Counts);

/** `settleEvents` folds pending event batches into the hourly rollups the heatmap reads. */
export function detectionRoutes(db: Db, cameras: CamerasService, models: DetectionModels, settleEvents: () => Promise<void>) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['cameras'];

    const ModelList = Type.Object({
      models: Type.Array(Type.Object({
        name: Type.String(), isDefault: Type.Boolean(), bytes: Type.Integer(), classes: Type.Array(Type.String()),
        inputWidth: Nullable(Type.Integer()), inputHeight: Nullable(Type.Integer()),
        problem: Nullable(Type.String({ description: 'why the file cannot be used; null when it can' })),
      })),
      chosen: Nullable(Type.String({ description: 'the model your cameras use; null: the default' })),
    });

    app.get('/api/v1/detection/models', {
      config: { access: 'camera.read' },
      schema: { tags, summary: 'The detection models installed on this server, and the one your organization\'s cameras use', response: { 200: ModelList, ...errors(401, 403) } },
    }, async (request) => models.list(scopeOf(request)));

    app.put('/api/v1/detection/model', {
      config: { access: 'camera.write' },
      schema: {
        tags, summary: 'Choose the installed model your organization\'s cameras use (null: the default); running cameras switch at once',
        body: Type.Object({ model: Nullable(Type.String({ maxLength: 100 })) }),
        response: { 200: ModelList, ...errors(400, 401, 403) },
      },
    }, async (request) => models.choose(scopeOf(request), request.body.model, requestActor(request)));

    app.get('/api/v1/cameras/statistics', {
      config: { access: 'camera.read' },
      schema: {
        tags, summary: 'Detection statistics of every camera you may see: per camera and per day (kept as daily rollups by the workers)',
        querystring: Range,
        response: {
          200: Type.Object({ from: Type.String(), to: Type.String(), cameras: Type.Array(Type.Object({ cameraId: Uuid, ...Counts })), days: Type.Array(DayCounts), totals: Totals }),
          ...errors(400, 401, 403),
        },
      },
    }, async (request) => organizationStatistics(db, scopeOf(request), request.query));

    app.get('/api/v1/cameras/violations/hours', {
      config: { access: 'camera.read' },
      schema: {
        tags, summary: 'Violation events of the cameras you may see by weekday and hour of the day (the organization\'s zone), from the hourly event rollups',
        querystring: Type.Intersect([Range, Type.Object({ siteId: Type.Optional(Uuid) })]),
        response: {
          200: Type.Object({
            from: Type.String(), to: Type.String(),
            cells: Type.Array(Type.Object({
              weekday: Type.Integer({ minimum: 1, maximum: 7, description: 'ISO weekday: 1 Monday … 7 Sunday' }), hour: Type.Integer({ minimum: 0, maximum: 23 }), violations: Type.Integer(),
            }), { description: 'only the hours with violations' }),
          }),
          ...errors(400, 401, 403),
        },
      },
    }, async (request) => violationHours(db, settleEvents, scopeOf(request), request.query));

    app.get('/api/v1/cameras/:id/statistics', {
      config: { access: 'camera.read' },
      schema: {
        tags, summary: 'One camera\'s detection statistics per day: frames decoded and inferred, inference time, violations by rule',
        params: IdParams, querystring: Range,
        response: { 200: Type.Object({ cameraId: Uuid, from: Type.String(), to: Type.String(), days: Type.Array(DayCounts), totals: Totals }), ...errors(400, 401, 403, 404) },
      },
    }, async (request) => {
      const scope = scopeOf(request);
      await cameras.get(scope, request.params.id);
      return cameraStatistics(db, scope, request.params.id, request.query);
    });
  };
}
