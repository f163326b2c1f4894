import { Counter, type Registry } from 'prom-client';
import { isRejection, type KeyRefusal, type Rejection, type TelemetryItem } from './items.js';

const METRIC = 'vigil_telemetry_dropped_total';

/**
 * Telemetry refused at ingest, counted on /metrics by reason: one key of a reading (its own reason), a
 * whole reading (its time or its shape), or a reading older than the ingest window.
 */
export class TelemetryRefusals {
  private readonly dropped: Counter<'reason'>;

  constructor(registry: Registry) {
    // One counter per registry, however many ingest services share it (tests start several apps).
    this.dropped = (registry.getSingleMetric(METRIC) as Counter<'reason'> | undefined) ?? new Counter({
      name: METRIC, help: 'Telemetry refused at ingest, by reason: one key of a reading, or a whole reading', labelNames: ['reason'], registers: [registry],
    });
  }

  count(parsed: TelemetryItem | Rejection): void {
    const errors = isRejection(parsed) ? parsed.errors : parsed.refused;
    for (const error of errors) {
      const reason = 'reason' in error ? (error as KeyRefusal).reason : error.field === 'ts' ? 'invalid_time' : 'invalid_item';
      this.dropped.inc({ reason });
    }
  }

  tooOld(readings: number): void {
    if (readings > 0) this.dropped.inc({ reason: 'too_old' }, readings);
  }
}

/** What the device is told: the field and the message of each refusal (reasons are for /metrics). */
export function withoutReasons(rejection: Rejection): Rejection {
  return { index: rejection.index, errors: rejection.errors.map(({ field, message }) => ({ field, message })) };
}
