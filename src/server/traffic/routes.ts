import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { scopeOf } from '../core/access.js';
import { errors, Nullable, Timestamp, Uuid } from '../core/http/schemas.js';
import type { TrafficService } from './service.js';

const Units = Type.Union([Type.Literal('mph'), Type.Literal('kmh')]);
const Bound = Type.String({ minLength: 10, maxLength: 40, description: 'ISO 8601 date-time, or YYYY-MM-DD in the subject\'s time zone (a "to" date includes that whole day)' });
const Num = Nullable(Type.Number());

const SubjectQuery = {
  deviceId: Type.Optional(Uuid),
  siteId: Type.Optional(Uuid),
  units: Type.Optional(Units),
  weekdaysOnly: Type.Optional(Type.Boolean({ description: 'only hours that fall Monday to Friday in the device\'s time zone' })),
};

const Subject = Type.Object({
  kind: Type.Union([Type.Literal('device'), Type.Literal('site'), Type.Literal('organization')]),
  id: Uuid,
  name: Type.String(),
  devices: Type.Integer(),
  timezone: Type.String(),
});

const Pace = Nullable(Type.Object({ from: Type.Number(), to: Type.Number(), count: Type.Number(), share: Type.Number() }));

const Summary = Type.Object({
  count: Type.Integer(), mean: Num, stddev: Num, min: Num, max: Num, p15: Num, median: Num, p85: Num, p95: Num, pace: Pace,
});

const Statistics = Type.Object({
  subject: Subject,
  from: Timestamp,
  to: Timestamp,
  weekdaysOnly: Type.Boolean(),
  units: Units,
  converted: Type.Boolean({ description: 'some devices record in the other unit; their bins were converted proportionally' }),
  empty: Type.Boolean(),
  message: Nullable(Type.String()),
  summary: Summary,
  speeding: Type.Object({
    measuredWithLimit: Type.Number(),
    withoutLimit: Type.Number(),
    speeding: Type.Number(),
    speedingShare: Num,
    bands: Type.Array(Type.Object({ band: Type.String(), count: Type.Number(), share: Type.Number() })),
    limits: Type.Array(Type.Object({ limit: Type.Number(), count: Type.Number() })),
  }),
  histogram: Type.Array(Type.Object({ from: Type.Number(), count: Type.Number() })),
  cumulative: Type.Array(Type.Object({ speed: Type.Number(), share: Type.Number() })),
  heatmap: Type.Object({
    volume: Type.Array(Type.Array(Type.Number()), { description: '7 rows (Monday first) × 24 local hours' }),
    speedingShare: Type.Array(Type.Array(Num)),
  }),
  hourly: Type.Array(Type.Object({ hour: Type.Integer(), count: Type.Integer(), mean: Num, p85: Num, speedingShare: Num })),
  peaks: Type.Object({
    am: Nullable(Type.Object({ hour: Type.Integer(), count: Type.Integer() })),
    pm: Nullable(Type.Object({ hour: Type.Integer(), count: Type.Integer() })),
  }),
  daily: Type.Array(Type.Object({
    date: Type.String(), weekday: Type.Boolean(), count: Type.Integer(), mean: Num, speedingShare: Num, fullDay: Type.Boolean(),
    countAverage7: Num, meanAverage7: Num,
  })),
  study: Type.Object({ sampleSize: Type.Integer(), fullWeekdays: Type.Integer(), covers24HourWeekday: Type.Boolean() }),
});

const Period = Type.Object({ from: Timestamp, to: Timestamp, count: Type.Integer() });
const Interval = Nullable(Type.Object({ change: Type.Number(), low: Type.Number(), high: Type.Number(), meaningful: Type.Boolean() }));

const Comparison = Type.Object({
  subject: Subject,
  units: Units,
  weekdaysOnly: Type.Boolean(),
  before: Period,
  after: Period,
  figures: Type.Array(Type.Object({ figure: Type.String(), before: Num, after: Num, change: Num })),
  tests: Type.Object({
    mean: Interval,
    p85: Interval,
    distribution: Nullable(Type.Object({ probabilityFaster: Type.Number(), z: Type.Number(), pValue: Type.Number(), meaningful: Type.Boolean() })),
  }),
  conclusions: Type.Array(Type.String()),
});

export function trafficRoutes(traffic: TrafficService) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['traffic'];

    app.get('/api/v1/traffic/statistics', {
      config: { access: 'traffic.read' },
      schema: {
        tags,
        summary: 'Speed-study statistics of a device, a site or every visible device over a range (default the last 30 days), from the hourly rollups',
        description: 'Percentiles and pace are exact to the 1-unit bin; mean, deviation, min and max are exact. Local hours, weekdays and dates are in each device\'s time zone. An empty range answers 200 with `empty: true`.',
        querystring: Type.Object({
          ...SubjectQuery,
          from: Type.Optional(Bound),
          to: Type.Optional(Bound),
          hourlyPercentiles: Type.Optional(Type.Boolean({ description: 'also the 85th percentile of each local hour of day (reads every hourly histogram row of the range: slower over many devices)' })),
        }),
        response: { 200: Statistics, ...errors(400, 401, 403, 404) },
      },
    }, async (request) => traffic.statistics(scopeOf(request), request.query));

    app.get('/api/v1/traffic/comparison', {
      config: { access: 'traffic.read' },
      schema: {
        tags,
        summary: 'Before/after comparison of two periods: the change in each figure, and whether the mean and 85th percentile changed more than chance explains',
        querystring: Type.Object({ ...SubjectQuery, beforeFrom: Bound, beforeTo: Bound, afterFrom: Bound, afterTo: Bound }),
        response: { 200: Comparison, ...errors(400, 401, 403, 404) },
      },
    }, async (request) => traffic.compare(scopeOf(request), request.query));
  };
}
