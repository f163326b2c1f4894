import { Link } from 'react-router';
import { useDeviceSharing, useSetDeviceSharing } from '../api/community';
import { ErrorState, LoadingState } from './states';

/** Whether a speed radar appears on the public community pages; managers switch it, everyone sees it. */
export function DeviceSharing({ deviceId, canChange }: { deviceId: string; canChange: boolean }) {
  const sharing = useDeviceSharing(deviceId);
  const change = useSetDeviceSharing(deviceId);
  return (
    <section className="panel" aria-labelledby="sharing-heading">
      <h2 id="sharing-heading">Community sharing</h2>
      {sharing.isPending ? (
        <LoadingState label="Loading the sharing setting…" />
      ) : sharing.isError ? (
        <ErrorState title="The sharing setting could not be loaded" error={sharing.error} onRetry={() => void sharing.refetch()} />
      ) : (
        <>
          <div className="field field-checkbox">
            <input
              id="device-shared" type="checkbox" checked={sharing.data.shared} disabled={!canChange || change.isPending}
              onChange={(e) => change.mutate(e.target.checked)} aria-describedby="device-shared-hint"
            />
            <label htmlFor="device-shared">Show on the public pages</label>
          </div>
          <p className="field-hint" id="device-shared-hint">
            {sharing.data.publicPath ? (
              <>Public at <Link to={sharing.data.publicPath}>{sharing.data.publicPath}</Link>: speed figures, recent speeders{sharing.data.photos ? ' with photos' : ''} and a location moved by about 100 m.</>
            ) : sharing.data.shared ? (
              'Shared, but not public: an administrator has not turned on public sharing for the organization.'
            ) : (
              'Not shared. Speed figures, recent speeders and an approximate location would be public, never keys or the exact location.'
            )}
          </p>
          {change.isError && <p className="form-error" role="alert">{change.error.message}</p>}
        </>
      )}
    </section>
  );
}
