import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { scopeOf } from '../core/access.js';
import { errors, Nullable, NullableTimestamp, Timestamp, Uuid } from '../core/http/schemas.js';
import { PREVIEW_DAYS, PREVIEW_MAX_DEVICES, PREVIEW_MAX_READINGS, type AlertPreviewService } from './preview.js';
import { DeviceKind, RuleFields } from './schemas.js';

const WouldBeAlert = Type.Object({
  startedAt: Timestamp,
  openedAt: Timestamp,
  resolvedAt: NullableTimestamp,
  peakValue: Nullable(Type.Number({ description: 'The worst value while it held; null for text rules' })),
  textValue: Nullable(Type.String({ description: 'Text rules: the value that opened it (the new value, for "changes")' })),
  previousText: Nullable(Type.String({ description: '"changes" rules: the value before the change' })),
});

const Preview = Type.Object({
  from: Timestamp,
  to: Timestamp,
  evaluated: Type.Boolean({ description: 'false for offline, no-data and event rules: only the devices they cover are listed' }),
  devicesTruncated: Type.Boolean({ description: `More than ${PREVIEW_MAX_DEVICES} devices match; the first ${PREVIEW_MAX_DEVICES} by name are shown` }),
  readingsTruncated: Type.Boolean({ description: `More than ${PREVIEW_MAX_READINGS} readings: the later devices were judged on part of their week` }),
  devices: Type.Array(Type.Object({
    deviceId: Uuid,
    name: Type.String(),
    kind: DeviceKind,
    siteId: Nullable(Uuid),
    readings: Type.Integer(),
    alerts: Type.Array(WouldBeAlert),
  })),
});

export function alertPreviewRoutes(previews: AlertPreviewService) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();

    app.post('/api/v1/alert-rules/preview', {
      config: { access: 'alertrule.write' },
      schema: {
        tags: ['alert rules'],
        summary: `Which of your devices a draft rule covers and the alerts it would have opened over the last ${PREVIEW_DAYS} days (nothing is saved)`,
        body: Type.Object({ ...RuleFields, name: Type.Optional(RuleFields.name) }),
        response: { 200: Preview, ...errors(400, 401, 403) },
      },
    }, async (request) => {
      const result = await previews.preview(scopeOf(request), { ...request.body, name: request.body.name ?? 'Preview' });
      return {
        ...result,
        from: result.from.toISOString(),
        to: result.to.toISOString(),
        devices: result.devices.map(({ device, readings, alerts }) => ({
          deviceId: device.id, name: device.name, kind: device.kind, siteId: device.site_id, readings,
          alerts: alerts.map((a) => ({
            startedAt: a.startedAt.toISOString(), openedAt: a.openedAt.toISOString(), resolvedAt: a.resolvedAt?.toISOString() ?? null,
            peakValue: a.peakValue, textValue: a.textValue, previousText: a.previousText,
          })),
        })),
      };
    });
  };
}
