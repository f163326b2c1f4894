import type { DeviceKind } from './devices.js';

/**
 * What a telemetry metric is, for people: its display name, its unit and its kind. A measure is a number
 * on a scale (temperature, pressure) drawn as a line; a state is on (1) or off (0) (door, compressor)
 * drawn as a timeline of on spells. One catalogue per device kind, used by the server's alert texts and
 * PDFs and by the console's charts; a device may override an entry in its settings (`settings.metrics`).
 */
export type MetricKind = 'measure' | 'state';

export interface MetricInfo {
  name: string;
  /** Printed after the value ("°C", "psi"); null for a bare number. */
  unit: string | null;
  kind: MetricKind;
  /** For states: what 1 and 0 mean ("Open" / "Closed"). */
  onLabel?: string;
  offLabel?: string;
}

/** A device's override of catalogue entries, as kept in `settings.metrics`. */
export type MetricOverrides = Record<string, Partial<Pick<MetricInfo, 'name' | 'unit' | 'kind'>>>;

const temperature: MetricInfo = { name: 'Temperature', unit: '°C', kind: 'measure' };
const humidity: MetricInfo = { name: 'Humidity', unit: '%', kind: 'measure' };
const battery: MetricInfo = { name: 'Battery', unit: '%', kind: 'measure' };
const voltage: MetricInfo = { name: 'Voltage', unit: 'V', kind: 'measure' };
const onOff = (name: string): MetricInfo => ({ name, unit: null, kind: 'state', onLabel: 'On', offLabel: 'Off' });

/** Per kind, in the order a person reads them: the headline measure first, states last. */
export const METRIC_CATALOGUE: Record<DeviceKind, Record<string, MetricInfo>> = {
  refrigeration: {
    temperature,
    // Polo Sanca units report discharge pressure in psi; a site with bar gauges overrides the unit.
    pressure: { name: 'Pressure', unit: 'psi', kind: 'measure' },
    humidity,
    door: { name: 'Door', unit: null, kind: 'state', onLabel: 'Open', offLabel: 'Closed' },
    compressor: onOff('Compressor'),
    heater: onOff('Defrost heater'),
    fan: onOff('Fan'),
  },
  sensor: { temperature, humidity, pressure: { name: 'Pressure', unit: 'hPa', kind: 'measure' }, battery, voltage },
  speed_radar: { battery, voltage, temperature },
  camera: { fps: { name: 'Frame rate', unit: 'fps', kind: 'measure' }, temperature },
};

/** Units a manager may pick for a metric in the console; the API takes any short text. */
export const UNIT_CHOICES: Record<string, readonly string[]> = {
  temperature: ['°C'],
  pressure: ['psi', 'bar', 'kPa', 'hPa'],
};

function readable(metric: string): string {
  const text = metric.replace(/[_.]/g, ' ');
  return text ? `${text[0]!.toUpperCase()}${text.slice(1)}` : text;
}

/** The overrides kept in a device's settings, or none when they are missing or malformed. */
export function metricOverridesOf(settings: Record<string, unknown> | null | undefined): MetricOverrides {
  const value = settings?.metrics;
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as MetricOverrides) : {};
}

/** A metric as a device of `kind` with `settings` presents it; an unknown metric is a bare measure named after itself. */
export function metricInfo(kind: DeviceKind, metric: string, settings?: Record<string, unknown> | null): MetricInfo {
  const base = METRIC_CATALOGUE[kind][metric] ?? { name: readable(metric), unit: null, kind: 'measure' as const };
  const override = metricOverridesOf(settings)[metric] ?? {};
  return {
    ...base,
    ...(typeof override.name === 'string' && override.name.trim() && { name: override.name.trim() }),
    ...(typeof override.unit === 'string' && { unit: override.unit.trim() || null }),
    ...((override.kind === 'measure' || override.kind === 'state') && { kind: override.kind }),
  };
}

/** Catalogue order, then unknown metrics alphabetically: temperature leads a fridge's charts. */
export function compareMetrics(kind: DeviceKind, a: string, b: string): number {
  const order = Object.keys(METRIC_CATALOGUE[kind]);
  const rank = (m: string) => (order.includes(m) ? order.indexOf(m) : order.length);
  return rank(a) - rank(b) || a.localeCompare(b);
}

/** "11.6 °C", "Open", "42": a value with its unit, rounded to two decimals (a state by its label). */
export function formatMetricValue(value: number | null | undefined, info: MetricInfo): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  if (info.kind === 'state') return value >= 0.5 ? (info.onLabel ?? 'On') : (info.offLabel ?? 'Off');
  const rounded = Math.round(value * 100) / 100;
  const text = String(Object.is(rounded, -0) ? 0 : rounded);
  if (!info.unit) return text;
  return info.unit === '%' ? `${text} %` : `${text} ${info.unit}`;
}

/** A unit override's problems (for `settings.metrics`), as field errors' messages keyed by field. */
export function metricOverrideProblems(value: unknown): { field: string; message: string }[] {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'object' || Array.isArray(value)) return [{ field: 'settings.metrics', message: 'must be an object of metric name → {name, unit, kind}' }];
  const problems: { field: string; message: string }[] = [];
  for (const [metric, entry] of Object.entries(value as Record<string, unknown>)) {
    const field = `settings.metrics.${metric}`;
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
      problems.push({ field, message: 'must be {name?, unit?, kind?}' });
      continue;
    }
    const { name, unit, kind, ...rest } = entry as Record<string, unknown>;
    if (Object.keys(rest).length > 0) problems.push({ field, message: `unknown field ${Object.keys(rest).map((k) => `"${k}"`).join(', ')}; use name, unit, kind` });
    if (name !== undefined && (typeof name !== 'string' || name.trim().length === 0 || name.length > 60)) problems.push({ field: `${field}.name`, message: 'must be text of 1 to 60 characters' });
    if (unit !== undefined && (typeof unit !== 'string' || unit.length > 12)) problems.push({ field: `${field}.unit`, message: 'must be text of at most 12 characters' });
    if (kind !== undefined && kind !== 'measure' && kind !== 'state') problems.push({ field: `${field}.kind`, message: 'must be "measure" or "state"' });
  }
  return problems;
}
