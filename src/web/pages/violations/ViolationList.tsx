import { useState } from 'react';
import { Link } from 'react-router';
import {
  RULE_LABELS, useAcknowledgeViolations, useViolations, VIOLATION_KIND_LABELS, violationPhotoUrl, type Violation, type ViolationFilter, type ViolationKind,
} from '../../api/violations';
import { Dialog } from '../../components/Dialog';
import { EventTime } from '../../components/EventTime';
import { Pager, useCursorPager } from '../../components/Pager';
import { useSession } from '../../components/session';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { may } from '../../lib/access';
import { useDisplayContext } from '../../lib/display';
import { humanize } from '../../lib/format';

const kindLabel = (kind: string) => VIOLATION_KIND_LABELS[kind as ViolationKind] ?? humanize(kind);

function what(v: Violation): string {
  const rule = v.attributes.rule ? RULE_LABELS[v.attributes.rule] ?? humanize(v.attributes.rule) : kindLabel(v.kind);
  return v.attributes.zone ? `${rule} · ${v.attributes.zone}` : rule;
}

/** The page of violations with selection, acknowledgement (operators and up) and the photo viewer. */
export function ViolationList({ filter, filtered }: { filter: ViolationFilter; filtered: boolean }) {
  const { me } = useSession();
  const canAck = may(me, 'event.ack');
  const pager = useCursorPager();
  const violations = useViolations(filter, pager.cursor);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [acking, setAcking] = useState<string[] | null>(null);
  const [viewing, setViewing] = useState<Violation | null>(null);
  const display = useDisplayContext();

  if (violations.isPending) return <LoadingState label="Loading violations…" />;
  if (violations.isError) return <ErrorState title="Violations could not be loaded" error={violations.error} onRetry={() => void violations.refetch()} />;
  const { items, nextCursor } = violations.data;
  if (items.length === 0) {
    return filtered
      ? <EmptyState title="No violations match these filters"><p>New violations that match appear here as they happen.</p></EmptyState>
      : <EmptyState title="No violations yet"><p>Violations appear here as the cameras see them.</p></EmptyState>;
  }
  const open = items.filter((v) => !v.acknowledgement);
  const chosen = items.filter((v) => selected.has(v.id) && !v.acknowledgement).map((v) => v.id);
  const toggle = (id: string) => setSelected((s) => {
    const next = new Set(s);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    return next;
  });

  return (
    <>
      {canAck && open.length > 0 && (
        <div className="violation-bulk">
          <div className="field field-checkbox">
            <input
              id="violation-select-all" type="checkbox" checked={chosen.length === open.length}
              onChange={(e) => setSelected(e.target.checked ? new Set(open.map((v) => v.id)) : new Set())}
            />
            <label htmlFor="violation-select-all">Select all not acknowledged on this page</label>
          </div>
          <button type="button" className="button" disabled={chosen.length === 0} onClick={() => setAcking(chosen)}>
            Acknowledge selected{chosen.length > 0 ? ` (${chosen.length})` : ''}
          </button>
        </div>
      )}
      <ul className="violation-list" aria-label="Violations" aria-busy={violations.isPlaceholderData}>
        {items.map((v) => {
          const zone = display.zoneFor(v.siteId);
          return (
            <li key={v.id} className={`violation-card${v.acknowledgement ? ' violation-acknowledged' : ''}`} data-testid="violation">
              {canAck && !v.acknowledgement && (
                <input type="checkbox" className="violation-select" checked={selected.has(v.id)} onChange={() => toggle(v.id)} aria-label={`Select ${what(v)} at ${v.deviceName}`} />
              )}
              {v.photoUrl ? (
                <button type="button" className="violation-thumb" onClick={() => setViewing(v)} aria-label={`Show the picture of ${what(v)} at ${v.deviceName}`}>
                  <img src={violationPhotoUrl(v.id, 'thumb')} alt="" loading="lazy" />
                </button>
              ) : <div className="violation-thumb violation-thumb-none">No picture</div>}
              <div className="violation-body">
                <p className="violation-title">
                  <span className={`severity severity-${v.severity ?? 'none'}`}>{humanize(v.severity ?? 'unknown')}</span>{' '}
                  <strong>{what(v)}</strong>
                </p>
                <p className="small">
                  {kindLabel(v.kind)} · <Link to={`/cameras/${v.deviceId}`}>{v.deviceName}</Link> · <EventTime iso={v.ts} zone={zone} />
                </p>
                {v.violation && (
                  <p className="small muted">
                    {v.violation.endedAt ? <>Ended <EventTime iso={v.violation.endedAt} zone={zone} /></> : <>Ongoing, last seen <EventTime iso={v.violation.lastSeenAt} zone={zone} /></>}
                  </p>
                )}
                {v.acknowledgement ? (
                  <p className="small violation-ack-record">
                    ✓ Acknowledged by {v.acknowledgement.by} <EventTime iso={v.acknowledgement.at} zone={zone} />
                    {v.acknowledgement.comment && <>: “{v.acknowledgement.comment}”</>}
                  </p>
                ) : canAck && (
                  <button type="button" className="button button-small" onClick={() => setAcking([v.id])}>Acknowledge</button>
                )}
              </div>
            </li>
          );
        })}
      </ul>
      <Pager label="Violation pages" page={pager.page} nextCursor={nextCursor} onNext={pager.next} onPrevious={pager.previous} busy={violations.isPlaceholderData} />
      {acking && <AcknowledgeDialog ids={acking} onClose={(done) => { setAcking(null); if (done) setSelected(new Set()); }} />}
      {viewing && (
        <Dialog title={`${what(viewing)} · ${viewing.deviceName}`} onClose={() => setViewing(null)} wide>
          <img className="violation-photo" src={violationPhotoUrl(viewing.id, 'full')} alt={`${what(viewing)} at ${viewing.deviceName}`} />
          <p className="small"><a href={violationPhotoUrl(viewing.id, 'full')} target="_blank" rel="noreferrer">Open the picture full size</a></p>
        </Dialog>
      )}
    </>
  );
}

function AcknowledgeDialog({ ids, onClose }: { ids: string[]; onClose: (done: boolean) => void }) {
  const [comment, setComment] = useState('');
  const ack = useAcknowledgeViolations();
  const title = ids.length === 1 ? 'Acknowledge the violation' : `Acknowledge ${ids.length} violations`;
  return (
    <Dialog title={title} onClose={() => onClose(false)}>
      <form onSubmit={(e) => { e.preventDefault(); ack.mutate({ ids, comment }, { onSuccess: () => onClose(true) }); }}>
        <div className="field">
          <label htmlFor="ack-comment">Comment (what was done)</label>
          <textarea id="ack-comment" rows={3} maxLength={1000} value={comment} onChange={(e) => setComment(e.target.value)} />
        </div>
        {ack.error && <p className="form-error" role="alert">{ack.error.message}</p>}
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={ack.isPending}>{ack.isPending ? 'Acknowledging…' : 'Acknowledge'}</button>
          <button type="button" className="button" onClick={() => onClose(false)}>Cancel</button>
        </div>
      </form>
    </Dialog>
  );
}
