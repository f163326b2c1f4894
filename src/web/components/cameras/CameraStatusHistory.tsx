import { useState } from 'react';
import { useCameraStatusHistory, type CameraStatusChange } from '../../api/cameras';
import { formatDuration } from '../../lib/format';
import { EventTime } from '../EventTime';
import { Pager, useCursorPager } from '../Pager';
import { ErrorState, LoadingState } from '../states';
import { CameraStatusBadge } from './CameraPicture';

/**
 * The camera's status changes kept by the server, newest first, 20 a page, each with how long it lasted
 * (until the next, newer change; the newest until now). The newer neighbour of a page's first change is the
 * previous page's last, remembered when paging on.
 */
export function CameraStatusHistory({ cameraId, zone }: { cameraId: string; zone: string }) {
  const pager = useCursorPager();
  // pageEnds[n]: when page n + 2's newer neighbour happened (the last change shown on page n + 1).
  const [pageEnds, setPageEnds] = useState<string[]>([]);
  const history = useCameraStatusHistory(cameraId, pager.cursor);

  if (history.isPending) return <LoadingState label="Loading the status history…" />;
  if (history.isError) return <ErrorState title="The status history could not be loaded" error={history.error} onRetry={() => void history.refetch()} />;
  const { items, nextCursor } = history.data;
  if (items.length === 0) return <p className="muted">No status changes yet: the camera has not been decoded since it was registered.</p>;

  const newerThanPage = pager.page === 1 ? null : pageEnds[pager.page - 2] ?? null;
  return (
    <>
      <ol className="camera-history" aria-label="Status changes, newest first">
        {items.map((change, index) => (
          <li key={`${change.at}-${change.status}-${index}`}>
            <div className="camera-history-head">
              <CameraStatusBadge status={change.status} />
              <EventTime iso={change.at} zone={zone} />
            </div>
            {change.cause && <div className={`camera-cause${change.status === 'error' ? ' camera-cause-error' : ''}`}>{change.cause}</div>}
            <div className="small muted">{lasted(change, index === 0 ? newerThanPage : items[index - 1]!.at, pager.page === 1 && index === 0)}</div>
          </li>
        ))}
      </ol>
      <Pager
        label="Status history pages"
        page={pager.page}
        nextCursor={nextCursor}
        busy={history.isPlaceholderData}
        onNext={(cursor) => {
          setPageEnds((ends) => [...ends.slice(0, pager.page - 1), items[items.length - 1]!.at]);
          pager.next(cursor);
        }}
        onPrevious={pager.previous}
      />
    </>
  );
}

function lasted(change: CameraStatusChange, newerAt: string | null, current: boolean): string {
  if (current) return `for ${formatDuration(Math.max(0, Date.now() - Date.parse(change.at)) / 1000)} so far`;
  if (newerAt === null) return '';
  return `for ${formatDuration((Date.parse(newerAt) - Date.parse(change.at)) / 1000)}`;
}
