import { useQuery } from '@tanstack/react-query';
import { api } from '../../api/client';
import type { Page } from '../../api/types';
import type { FormCondition } from './rule-draft';

type ValueType = 'number' | 'string' | 'json';

/**
 * How one device sends each of its telemetry keys (its latest value's type, first 100 keys by name), for
 * the rule editor: a device rule on a key the device sends as text offers the text operators by itself.
 */
export function useDeviceMetricTypes(deviceId: string | null): Map<string, ValueType> {
  const latest = useQuery({
    queryKey: ['devices', deviceId, 'telemetry-latest', null],
    queryFn: ({ signal }) => api<Page<{ key: string; type: ValueType }>>(`/devices/${encodeURIComponent(deviceId!)}/telemetry/latest`, { query: { limit: 100 }, signal }),
    enabled: Boolean(deviceId),
  });
  return new Map((latest.data?.items ?? []).map((row) => [row.key, row.type]));
}

/**
 * The "When" that suits a key sent as `type`, when the form is on a telemetry value of the other kind:
 * text for a key sent as text, a number threshold for one sent as numbers (on/off values are numbers too,
 * so an on/off choice stays). Null when the current choice already suits it, or is not about a telemetry value.
 */
export function conditionFor(type: ValueType | undefined, current: FormCondition): FormCondition | null {
  if (current !== 'metric' && current !== 'flag' && current !== 'text') return null;
  if (type === 'string' && current !== 'text') return 'text';
  if (type === 'number' && current === 'text') return 'metric';
  return null;
}
