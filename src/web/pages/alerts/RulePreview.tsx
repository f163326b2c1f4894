import type { RulePreview } from '../../api/alerts';
import { EventTime } from '../../components/EventTime';
import { useDisplayContext } from '../../lib/display';
import { formatNumber, KIND_LABELS } from '../../lib/format';

/** What a would-be alert is about: the peak of a number, the text that opened it, or the change. */
function figure(alert: RulePreview['devices'][number]['alerts'][number]): string {
  if (alert.previousText !== null) return `“${alert.previousText}” → “${alert.textValue}”`;
  if (alert.textValue !== null) return `value “${alert.textValue}”`;
  return `peak ${formatNumber(alert.peakValue, 2)}`;
}

/** The preview's answer: the devices the draft covers and, per device, the alerts it would have opened. */
export function PreviewResult({ preview }: { preview: RulePreview }) {
  const display = useDisplayContext();
  const firing = preview.devices.filter((d) => d.alerts.length > 0);
  const total = firing.reduce((sum, d) => sum + d.alerts.length, 0);
  return (
    <section className="preview" aria-labelledby="preview-heading" aria-live="polite">
      <h3 id="preview-heading">Preview</h3>
      <p>
        Applies to {formatNumber(preview.devices.length)}{preview.devicesTruncated ? '+' : ''} device{preview.devices.length === 1 ? '' : 's'}.{' '}
        {preview.evaluated
          ? `Over the last 7 days it would have opened ${formatNumber(total)} alert${total === 1 ? '' : 's'} on ${formatNumber(firing.length)} device${firing.length === 1 ? '' : 's'}.`
          : 'Silence and event rules are not replayed; this is the list of devices they would watch.'}
      </p>
      {preview.readingsTruncated && <p className="muted small">There were more readings than a preview reads; the last devices were judged on part of their week.</p>}
      {preview.devices.length > 0 && (
        <ul className="preview-list">
          {preview.devices.map((device) => (
            <li key={device.deviceId}>
              <strong>{device.name}</strong> <span className="muted small">{KIND_LABELS[device.kind]}{preview.evaluated ? ` · ${formatNumber(device.readings)} readings` : ''}</span>
              {device.alerts.length > 0 && (
                <ul>
                  {device.alerts.map((alert) => (
                    <li key={alert.openedAt}>
                      Would open <EventTime iso={alert.openedAt} zone={display.zoneFor(device.siteId)} />, {figure(alert)},{' '}
                      {alert.resolvedAt ? <>resolve <EventTime iso={alert.resolvedAt} zone={display.zoneFor(device.siteId)} /></> : 'still open'}
                    </li>
                  ))}
                </ul>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
