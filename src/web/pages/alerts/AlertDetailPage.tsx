import { lazy, Suspense, useMemo, useState } from 'react';
import { Link, useParams } from 'react-router';
import { useAlert, useAlertPeople, type Alert } from '../../api/alerts';
import { ApiError } from '../../api/client';
import { useTelemetry, type TelemetryBucket } from '../../api/fleet';
import { useDevice } from '../../api/queries';
import { AlertStatusBadge, SeverityBadge } from '../../components/alerts/AlertBadges';
import { EventTime } from '../../components/EventTime';
import { Notice, useNotice } from '../../components/Notice';
import { useSession } from '../../components/session';
import { EmptyState, ErrorState, LoadingState, Spinner } from '../../components/states';
import { safeRangeOf, type MetricSeries } from '../../components/telemetry/series';
import { formatMetricValue, metricInfo } from '../../../shared/metrics';
import type { Device } from '../../api/types';
import { may } from '../../lib/access';
import { useDisplayContext } from '../../lib/display';
import { formatNumber, humanize } from '../../lib/format';
import { useTitle } from '../../lib/title';
import { AcknowledgeDialog } from './AcknowledgeDialog';
import { ResolveDialog } from './ResolveDialog';

const MetricChart = lazy(() => import('../../components/telemetry/MetricChart'));

const value = (v: number | null) => (v === null ? '—' : formatNumber(v, 2));

/** `/alerts/:id`: one alert's timeline, the metric around it, and acknowledge/resolve for those who may. */
export function AlertDetailPage() {
  const { id = '' } = useParams();
  const alert = useAlert(id);
  useTitle(alert.data ? alert.data.message : 'Alert');
  if (alert.isPending) return <div className="page"><LoadingState label="Loading the alert…" /></div>;
  if (alert.isError) {
    const missing = alert.error instanceof ApiError && (alert.error.status === 404 || alert.error.status === 400);
    return (
      <div className="page">
        <nav className="breadcrumbs" aria-label="Breadcrumbs"><Link to="/alerts">Alerts</Link></nav>
        {missing
          ? <EmptyState title="Alert not found"><p>It does not exist, or it belongs to a site you cannot see. <Link to="/alerts">Back to the alerts</Link></p></EmptyState>
          : <ErrorState title="The alert could not be loaded" error={alert.error} onRetry={() => void alert.refetch()} />}
      </div>
    );
  }
  return <AlertDetail alert={alert.data} />;
}

function AlertDetail({ alert }: { alert: Alert }) {
  const { me } = useSession();
  const display = useDisplayContext();
  const device = useDevice(alert.deviceId);
  const zone = display.zoneFor(alert.siteId);
  const notice = useNotice();
  const [dialog, setDialog] = useState<'acknowledge' | 'resolve' | null>(null);
  const canAct = may(me, 'alert.ack');
  const info = device.data && alert.metric && alert.condition !== 'event' ? { ...metricInfo(device.data.kind, alert.metric, device.data.settings), kind: 'measure' as const } : null;
  const shown = (v: number | null) => (info && v !== null ? formatMetricValue(v, info) : value(v));

  return (
    <div className="page">
      <nav className="breadcrumbs" aria-label="Breadcrumbs"><Link to="/alerts">Alerts</Link></nav>
      <header className="page-header">
        <div>
          <div className="alert-title">
            <SeverityBadge severity={alert.severity} />
            <AlertStatusBadge status={alert.status} />
          </div>
          <h1>{alert.message}</h1>
          <p className="muted">
            {device.data ? <Link to={`/devices/${alert.deviceId}`}>{device.data.name}</Link> : 'Device'} · rule {alert.ruleId ? `“${alert.ruleName}”` : `“${alert.ruleName}” (deleted)`}
          </p>
        </div>
        {canAct && alert.status !== 'resolved' && (
          <div className="row-actions">
            {alert.status === 'open' && <button type="button" className="button button-primary" onClick={() => setDialog('acknowledge')}>Acknowledge</button>}
            <button type="button" className="button" onClick={() => setDialog('resolve')}>Resolve</button>
          </div>
        )}
      </header>
      <Notice message={notice.message} />
      <div className="panels">
        <section className="panel" aria-labelledby="timeline-heading">
          <div className="panel-header"><h2 id="timeline-heading">Timeline</h2><span className="muted small">Times in {zone}</span></div>
          <Timeline alert={alert} zone={zone} />
        </section>
        <section className="panel" aria-labelledby="figures-heading">
          <div className="panel-header"><h2 id="figures-heading">Figures</h2></div>
          <dl className="details">
            <dt>Metric</dt><dd>{info ? info.name : alert.metric ? humanize(alert.metric) : humanize(alert.condition)}</dd>
            {alert.latestText !== null ? (
              <>
                {alert.previousText !== null && <><dt>Changed from</dt><dd>{alert.previousText}</dd></>}
                <dt>First value</dt><dd>{alert.firstText ?? '–'}</dd>
                <dt>Latest value</dt><dd>{alert.latestText}</dd>
              </>
            ) : (
              <>
                <dt>Threshold</dt><dd>{shown(alert.threshold)}</dd>
                <dt>First value</dt><dd>{shown(alert.firstValue)}</dd>
                <dt>Latest value</dt><dd>{shown(alert.latestValue)}</dd>
                <dt>Peak</dt><dd>{shown(alert.peakValue)}</dd>
              </>
            )}
            <dt>Breaches</dt><dd>{formatNumber(alert.breachCount)}</dd>
          </dl>
        </section>
      </div>
      {/* A text value has no chart: its values are in the figures. */}
      {alert.metric && alert.condition !== 'event' && alert.latestText === null && <AlertChart alert={alert} zone={zone} device={device.data} />}
      {dialog === 'acknowledge' && (
        <AcknowledgeDialog ids={[alert.id]} onClose={() => setDialog(null)} onDone={() => { setDialog(null); notice.show('Alert acknowledged.'); }} />
      )}
      {dialog === 'resolve' && <ResolveDialog id={alert.id} onClose={() => setDialog(null)} onDone={() => { setDialog(null); notice.show('Alert resolved.'); }} />}
    </div>
  );
}

function Timeline({ alert, zone }: { alert: Alert; zone: string }) {
  const people = useAlertPeople(alert.id, Boolean(alert.acknowledgedBy || alert.resolvedBy));
  const who = (id: string | null, person: { name: string } | null | undefined) => (id ? person?.name ?? '…' : 'someone no longer here');
  const threshold = alert.threshold !== null ? ` (threshold ${value(alert.threshold)})` : '';
  return (
    <ol className="timeline">
      <li><span className="timeline-what">Condition began</span><EventTime iso={alert.startedAt} zone={zone} />
        {alert.firstValue !== null && <> · value {value(alert.firstValue)}{threshold}</>}{alert.firstText !== null && <> · value “{alert.firstText}”</>}
      </li>
      <li><span className="timeline-what">Opened</span><EventTime iso={alert.openedAt} zone={zone} /></li>
      {alert.breachCount > 1 && (
        <li>
          <span className="timeline-what">Latest breach</span><EventTime iso={alert.lastBreachAt} zone={zone} /> ·{' '}
          {alert.latestText !== null ? `value “${alert.latestText}”` : `value ${value(alert.latestValue)}, peak ${value(alert.peakValue)}`}, {formatNumber(alert.breachCount)} breaches
        </li>
      )}
      {alert.acknowledgedAt && (
        <li>
          <span className="timeline-what">Acknowledged by {who(alert.acknowledgedBy, people.data?.acknowledgedBy)}</span>
          <EventTime iso={alert.acknowledgedAt} zone={zone} />
          {alert.acknowledgeComment && <blockquote className="timeline-comment">“{alert.acknowledgeComment}”</blockquote>}
        </li>
      )}
      {alert.resolvedAt && (
        <li>
          <span className="timeline-what">
            {alert.resolution === 'auto' ? 'Resolved automatically: the value came back'
              : alert.resolution === 'rule_changed' ? 'Resolved: the rule was changed, disabled or deleted'
                : `Resolved by ${who(alert.resolvedBy, people.data?.resolvedBy)}`}
          </span>
          <EventTime iso={alert.resolvedAt} zone={zone} />
          {alert.resolveComment && <blockquote className="timeline-comment">Corrective action: “{alert.resolveComment}”</blockquote>}
        </li>
      )}
      {!alert.resolvedAt && <li><span className="timeline-what">Still {alert.status}</span></li>}
    </ol>
  );
}

/** An hour before the breach began until half an hour after it ended (or now), in buckets fine enough to see it. */
function AlertChart({ alert, zone, device }: { alert: Alert; zone: string; device: Device | undefined }) {
  // The page's opening moment: the range of an alert still open ends there (a reload extends it).
  const [openedAt] = useState(() => Date.now());
  const range = useMemo(() => {
    const from = Date.parse(alert.startedAt) - 3_600_000;
    const end = Math.min(openedAt, (alert.resolvedAt ? Date.parse(alert.resolvedAt) : openedAt) + 1_800_000);
    const span = end - from;
    const bucket: TelemetryBucket = span <= 6 * 3_600_000 ? '1m' : span <= 48 * 3_600_000 ? '5m' : '1h';
    return { from: new Date(from).toISOString(), to: new Date(end + 60_000).toISOString(), bucket };
  }, [alert.startedAt, alert.resolvedAt, openedAt]);
  const telemetry = useTelemetry(alert.deviceId, range);
  const series = useMemo<MetricSeries>(() => {
    const s: MetricSeries = { ts: [], min: [], avg: [], max: [] };
    for (const b of telemetry.data?.buckets ?? []) {
      if (b.metric !== alert.metric) continue;
      s.ts.push(Date.parse(b.ts) / 1000);
      s.min.push(b.min);
      s.avg.push(b.avg);
      s.max.push(b.max);
    }
    return s;
  }, [telemetry.data, alert.metric]);
  const info = device ? metricInfo(device.kind, alert.metric ?? '', device.settings) : null;
  const safeRange = device?.kind === 'refrigeration' && alert.metric === 'temperature' ? safeRangeOf(device.settings) : null;
  const span = useMemo((): [number, number] => [Date.parse(range.from) / 1000, Date.parse(range.to) / 1000], [range]);
  const label = `${humanize(alert.metric ?? '')} around the alert: minimum, average and maximum${alert.threshold !== null ? `; threshold ${value(alert.threshold)}` : ''}`;
  return (
    <section className="panel" aria-labelledby="alert-chart-heading">
      <div className="panel-header">
        <h2 id="alert-chart-heading">{humanize(alert.metric ?? '')} around the alert</h2>
        <span className="muted small">{alert.threshold !== null && alert.condition === 'metric' ? `Threshold ${value(alert.threshold)}` : ''}</span>
      </div>
      {telemetry.isPending ? <LoadingState label="Loading readings…" />
        : telemetry.isError ? <ErrorState title="Readings could not be loaded" error={telemetry.error} onRetry={() => void telemetry.refetch()} />
          : series.ts.length === 0 ? <EmptyState title="No readings in this period" />
            : (
              <Suspense fallback={<div className="chart-canvas"><Spinner label="Loading the chart…" /></div>}>
                <MetricChart series={series} zone={zone} label={label} unit={info?.unit ?? null} span={span} safeRange={safeRange} />
              </Suspense>
            )}
    </section>
  );
}
