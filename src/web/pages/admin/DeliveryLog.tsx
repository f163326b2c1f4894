import { useDeliveries, type Channel } from '../../api/alerts';
import { Dialog } from '../../components/Dialog';
import { EventTime } from '../../components/EventTime';
import { Pager, useCursorPager } from '../../components/Pager';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { organizationZone } from '../../lib/format';

const STATUS_TEXT = { pending: '… Pending', delivered: '✓ Delivered', failed: '✗ Failed', held: '◷ Held for the digest', digested: '✓ In a digest' } as const;

/** A channel's deliveries, newest first: what was sent, how it went, and when the next try is. */
export function DeliveryLog({ channel, onClose }: { channel: Channel; onClose: () => void }) {
  const pager = useCursorPager();
  const deliveries = useDeliveries(channel.id, pager.cursor);
  return (
    <Dialog title={`Delivery log: ${channel.name}`} onClose={onClose} wide>
      <p className="muted small">Times in {organizationZone()}.</p>
      {deliveries.isPending ? <LoadingState label="Loading deliveries…" />
        : deliveries.isError ? <ErrorState title="The log could not be loaded" error={deliveries.error} onRetry={() => void deliveries.refetch()} />
          : deliveries.data.items.length === 0 ? <EmptyState title="Nothing sent yet"><p>Deliveries appear here when a rule using this channel opens or resolves an alert, or a maintenance reminder goes out.</p></EmptyState>
            : (
              <>
                <div className="table-wrap" role="region" aria-label="Deliveries" tabIndex={0}>
                  <table className="table" aria-busy={deliveries.isPlaceholderData || undefined}>
                    <thead>
                      <tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">Status</th><th scope="col" className="hide-narrow">Details</th></tr>
                    </thead>
                    <tbody>
                      {deliveries.data.items.map((d) => (
                        <tr key={d.id}>
                          <td className="small"><EventTime iso={d.createdAt} zone={organizationZone()} /></td>
                          <td>{d.event}</td>
                          <td className="nowrap">{STATUS_TEXT[d.status]}<div className="muted small">{d.attempts} attempt{d.attempts === 1 ? '' : 's'}</div></td>
                          <td className="hide-narrow small alert-message">
                            {d.responseStatus !== null && <>HTTP {d.responseStatus}. </>}
                            {d.lastError}
                            {d.status === 'pending' && d.nextAttemptAt && <> Next try <EventTime iso={d.nextAttemptAt} zone={organizationZone()} />.</>}
                            {d.digestId && <>Sent in digest #{d.digestId}.</>}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
                <Pager label="Delivery pages" page={pager.page} nextCursor={deliveries.data.nextCursor} onNext={pager.next} onPrevious={pager.previous} busy={deliveries.isPlaceholderData} />
              </>
            )}
    </Dialog>
  );
}
