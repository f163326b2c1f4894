import { lazy, Suspense, useMemo, useState } from 'react';
import { Link, useParams } from 'react-router';
import { useAlert, useResolve, type Alert } from '../api/alerts';
import { ApiError } from '../api/client';
import { useTelemetry } from '../api/fleet';
import { Dialog } from '../components/Dialog';
import { EventTime } from '../components/EventTime';
import { useSession } from '../components/session';
import { EmptyState, ErrorState, LoadingState, Spinner } from '../components/states';
import type { MetricSeries } from '../components/telemetry/MetricChart';
import { may } from '../lib/access';
import { useDisplayContext } from '../lib/display';
import { humanize } from '../lib/format';
import { useTitle } from '../lib/title';
import { AcknowledgeDialog } from './AlertsPage';

const MetricChart = lazy(() => import('../components/telemetry/MetricChart'));
const HOUR = 3_600_000;

/** `/alerts/:id` (the link in notification emails): what happened, who did what, and the metric around it. */
export function AlertDetailPage() {
  const { id = '' } = useParams();
  const { me } = useSession();
  const alert = useAlert(id);
  const display = useDisplayContext();
  const [dialog, setDialog] = useState<'acknowledge' | 'resolve' | null>(null);
  useTitle(alert.data ? `Alert: ${alert.data.message}` : 'Alert');

  if (alert.isPending || (alert.isSuccess && !display.ready)) return <div className="page"><LoadingState label="Loading the alert…" /></div>;
  if (alert.isError) {
    const missing = alert.error instanceof ApiError && (alert.error.status === 404 || alert.error.status === 400);
    return (
      <div className="page">
        <nav className="breadcrumbs" aria-label="Breadcrumbs"><Link to="/alerts">Alerts</Link></nav>
        {missing ? (
          <><h1>Alert not found</h1><p>It belongs to a site or organization you cannot see, or its device was deleted.</p></>
        ) : (
          <ErrorState title="The alert could not be loaded" error={alert.error} onRetry={() => void alert.refetch()} />
        )}
      </div>
    );
  }

  const a = alert.data;
  const zone = display.zoneFor(a.siteId);
  const device = display.devices.find((d) => d.id === a.deviceId);
  const mayAct = may(me, 'alert.ack');
  return (
    <div className="page">
      <nav className="breadcrumbs" aria-label="Breadcrumbs">
        <Link to="/alerts">Alerts</Link> <span aria-hidden="true">/</span> <span aria-current="page">{a.ruleName}</span>
      </nav>
      <header className="page-header">
        <div>
          <h1>{a.message}</h1>
          <p><span className={`severity severity-${a.severity}`}>{humanize(a.severity)}</span> · {humanize(a.status)}</p>
        </div>
        {mayAct && a.status !== 'resolved' && (
          <div className="row-actions">
            {a.status === 'open' && <button type="button" className="button button-primary" onClick={() => setDialog('acknowledge')}>Acknowledge</button>}
            <button type="button" className="button" onClick={() => setDialog('resolve')}>Resolve</button>
          </div>
        )}
      </header>
      <section className="panel" aria-labelledby="alert-facts">
        <h2 id="alert-facts">What happened</h2>
        <dl className="details">
          <div><dt>Device</dt><dd><Link to={`/devices/${a.deviceId}`}>{device?.name ?? 'Device'}</Link> <span className="muted">· times in {zone}</span></dd></div>
          <div><dt>Rule</dt><dd>{a.ruleName}{a.ruleId === null && <span className="muted"> (deleted)</span>}</dd></div>
          <div><dt>Condition began</dt><dd><EventTime iso={a.startedAt} zone={zone} /></dd></div>
          <div><dt>Opened</dt><dd><EventTime iso={a.openedAt} zone={zone} /></dd></div>
          {a.threshold !== null && <div><dt>Threshold</dt><dd>{a.threshold}</dd></div>}
          {a.latestValue !== null && <div><dt>Values</dt><dd>first {a.firstValue ?? '–'}, peak {a.peakValue ?? '–'}, latest {a.latestValue} · {a.breachCount} {a.breachCount === 1 ? 'breach' : 'breaches'}</dd></div>}
          <div>
            <dt>Acknowledged</dt>
            <dd>{a.acknowledgedAt ? <><EventTime iso={a.acknowledgedAt} zone={zone} />{a.acknowledgeComment && <> · “{a.acknowledgeComment}”</>}</> : 'Not yet'}</dd>
          </div>
          <div>
            <dt>Resolved</dt>
            <dd>{a.resolvedAt ? <><EventTime iso={a.resolvedAt} zone={zone} /> · {resolutionText(a)}</> : 'Not yet'}</dd>
          </div>
        </dl>
      </section>
      {a.metric && <AlertChart alert={a} zone={zone} />}
      {dialog === 'acknowledge' && <AcknowledgeDialog ids={[a.id]} onClose={() => setDialog(null)} onDone={() => setDialog(null)} />}
      {dialog === 'resolve' && <ResolveDialog alert={a} onClose={() => setDialog(null)} />}
    </div>
  );
}

function resolutionText(alert: Alert): string {
  if (alert.resolution === 'auto') return 'by itself: the value came back';
  if (alert.resolution === 'rule_changed') return 'its rule was changed or removed';
  return 'by hand';
}

/** The alert's metric from an hour before the condition began to an hour after it ended (or now). */
function AlertChart({ alert, zone }: { alert: Alert; zone: string }) {
  // The window is fixed when the chart is shown; live updates refetch the same window.
  const [shownAt] = useState(() => Date.now());
  const from = Date.parse(alert.startedAt) - HOUR;
  const to = Math.min(shownAt, (alert.resolvedAt ? Date.parse(alert.resolvedAt) : shownAt) + HOUR);
  const bucket = to - from <= 6 * HOUR ? '1m' : to - from <= 48 * HOUR ? '5m' : '1h';
  const range = useMemo(() => ({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), bucket }) as const, [from, to, bucket]);
  const telemetry = useTelemetry(alert.deviceId, range);
  const series = useMemo(() => {
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
  const title = humanize(alert.metric ?? '');
  return (
    <section className="panel" aria-labelledby="alert-chart">
      <div className="panel-header">
        <h2 id="alert-chart">{title} around the alert</h2>
        <span className="muted small">{bucket} buckets · times in {zone}</span>
      </div>
      {telemetry.isPending ? <LoadingState label="Loading telemetry…" />
        : telemetry.isError ? <ErrorState title="Telemetry could not be loaded" error={telemetry.error} onRetry={() => void telemetry.refetch()} />
          : series.ts.length === 0 ? <EmptyState title="No readings in this period" />
            : (
              <Suspense fallback={<div className="chart-canvas"><Spinner label="Loading the chart…" /></div>}>
                <MetricChart series={series} zone={zone} label={`${title} from an hour before the alert to an hour after`} />
              </Suspense>
            )}
    </section>
  );
}

function ResolveDialog({ alert, onClose }: { alert: Alert; onClose: () => void }) {
  const resolve = useResolve();
  return (
    <Dialog title="Resolve alert" onClose={onClose}>
      <p>Mark “{alert.message}” as resolved? If the condition still holds, the rule opens a new alert.</p>
      {resolve.error && <p className="form-error" role="alert">{resolve.error.message}</p>}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose}>Cancel</button>
        <button type="button" className="button button-primary" disabled={resolve.isPending} onClick={() => resolve.mutate(alert.id, { onSuccess: onClose })}>
          {resolve.isPending ? 'Working…' : 'Resolve'}
        </button>
      </div>
    </Dialog>
  );
}
