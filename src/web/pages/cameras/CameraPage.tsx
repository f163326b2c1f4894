import { useState } from 'react';
import { Link, useLocation, useParams } from 'react-router';
import { ApiError } from '../../api/client';
import { useCamera, useDecoderState, type Camera } from '../../api/cameras';
import { useSites } from '../../api/queries';
import { CameraCredentials } from '../../components/cameras/CameraCredentials';
import { CameraLiveView, CameraStatusBadge, cameraStatusWord } from '../../components/cameras/CameraPicture';
import { CameraPlaceholder } from '../../components/cameras/CameraPlaceholder';
import { CameraSettingsForm } from '../../components/cameras/CameraSettingsForm';
import { CameraStatusHistory } from '../../components/cameras/CameraStatusHistory';
import { DetectionPanel } from '../../components/cameras/DetectionPanel';
import { ZoneOverlay } from '../../components/cameras/ZoneShapes';
import { EventTime } from '../../components/EventTime';
import { Notice, useNotice } from '../../components/Notice';
import { useSession } from '../../components/session';
import { ErrorState, LoadingState } from '../../components/states';
import { may } from '../../lib/access';
import { formatRelative, organizationZone } from '../../lib/format';
import { useTitle } from '../../lib/title';
import './cameras.css';

/** `/cameras/:id`: the live picture, status and cause; admins change settings, credentials and the placeholder video. */
export function CameraPage() {
  const { id = '' } = useParams();
  const { me } = useSession();
  const camera = useCamera(id);
  const sites = useSites();
  const notice = useNotice();
  const canEdit = may(me, 'camera.write');
  const decoder = useDecoderState(id, canEdit && camera.isSuccess);
  // Arrived from the register wizard: the camera exists, its address and credentials come next.
  const registered = (useLocation().state as { registered?: boolean } | null)?.registered === true;
  const [showZones, setShowZones] = useState(true);
  useTitle(camera.data?.name ?? 'Camera');

  if (camera.isPending) return <div className="page"><LoadingState label="Loading the camera…" /></div>;
  if (camera.isError) {
    const missing = camera.error instanceof ApiError && (camera.error.status === 404 || camera.error.status === 400);
    return (
      <div className="page">
        <nav className="breadcrumbs" aria-label="Breadcrumbs"><Link to="/cameras">Cameras</Link></nav>
        {missing ? (
          <>
            <h1>Camera not found</h1>
            <p>It may have been deleted, or it belongs to a site or organization you cannot see.</p>
          </>
        ) : <ErrorState title="The camera could not be loaded" error={camera.error} onRetry={() => void camera.refetch()} />}
      </div>
    );
  }

  const c = camera.data;
  const site = c.siteId ? sites.data?.get(c.siteId) : undefined;
  const zone = site?.timezone ?? organizationZone();
  return (
    <div className="page page-camera">
      <nav className="breadcrumbs" aria-label="Breadcrumbs">
        <Link to="/cameras">Cameras</Link> <span aria-hidden="true">/</span> <span aria-current="page">{c.name}</span>
      </nav>
      <header className="page-header">
        <div>
          <h1>{c.name}</h1>
          <p className="muted">{c.zone}{site ? ` · ${site.name}` : ''} · <span className="mono">{c.serial}</span></p>
        </div>
        <div className="row-actions">
          <CameraStatusBadge status={c.status} />
          <Link className="button" to={`/devices/${c.id}`}>Device page</Link>
        </div>
      </header>
      <Notice message={notice.message} />
      {registered && (
        <p className="form-success" role="status">
          {c.name} is registered. Enter its RTSP address under Settings and, if it needs them, its user name and password under Credentials; then test the connection.
        </p>
      )}

      <section className="panel camera-live-panel" aria-labelledby="camera-live-heading">
        <h2 id="camera-live-heading" className="visually-hidden">Live picture</h2>
        <CameraLiveView camera={c} overlay={showZones ? (aspect) => <ZoneOverlay detection={c.detection} aspect={aspect} /> : undefined} />
        <div className="field field-checkbox camera-zones-toggle">
          <input id="camera-show-zones" type="checkbox" checked={showZones} onChange={(e) => setShowZones(e.target.checked)} />
          <label htmlFor="camera-show-zones">Show zones and masks over the picture</label>
        </div>
        <p className="camera-status-line" data-testid="camera-status-line">
          <strong>{cameraStatusWord(c.status)}</strong> since <EventTime iso={c.statusChangedAt} zone={zone} /> <span className="muted">({formatRelative(c.statusChangedAt)})</span>
          {c.statusCause && <><br /><span className={`camera-cause${c.status === 'error' ? ' camera-cause-error' : ''}`}>{c.statusCause}</span></>}
        </p>
        {c.usePlaceholder && <p className="muted">Set to play its placeholder video instead of the camera.</p>}
      </section>

      <div className="panels">
        <section className="panel" aria-labelledby="camera-history-heading">
          <h2 id="camera-history-heading">Status history</h2>
          <CameraStatusHistory cameraId={c.id} zone={zone} />
        </section>
        {canEdit && (
          <section className="panel" aria-labelledby="camera-decoder-heading">
            <h2 id="camera-decoder-heading">Decoder messages</h2>
            {c.worker !== undefined && (
              <p className="small">{c.worker ? <>Decoded by <span className="mono">{c.worker.id}</span> since <EventTime iso={c.worker.since} zone={zone} />.</> : 'No worker decodes this camera at the moment.'}</p>
            )}
            {decoder.data?.running ? (
              decoder.data.stderrTail && decoder.data.stderrTail.length > 0
                ? <pre className="code-block camera-ffmpeg" tabIndex={0} aria-label="ffmpeg's last messages">{decoder.data.stderrTail.join('\n')}</pre>
                : <p className="muted">ffmpeg has said nothing yet.</p>
            ) : decoder.isError ? <p className="form-error">{decoder.error.message}</p>
              : <p className="muted">This server does not decode the camera; its worker keeps ffmpeg's messages.</p>}
          </section>
        )}
      </div>

      <DetectionPanel camera={c} canEdit={canEdit} onSaved={notice.show} />
      <section className="panel" aria-labelledby="camera-settings-heading">
        <h2 id="camera-settings-heading">Settings</h2>
        {canEdit ? <CameraSettingsForm camera={c} onSaved={notice.show} /> : <ReadOnlySettings camera={c} />}
      </section>
      <CameraCredentials camera={c} canEdit={canEdit} onSaved={notice.show} />
      <CameraPlaceholder camera={c} canEdit={canEdit} zone={zone} onSaved={notice.show} />
    </div>
  );
}

function ReadOnlySettings({ camera: c }: { camera: Camera }) {
  return (
    <>
      <p className="small muted">Administrators change these settings.</p>
      <dl className="details" aria-label="Camera settings">
        <div><dt>Source</dt><dd>{c.source === 'rtsp' ? 'RTSP stream' : 'Placeholder video'}</dd></div>
        <div><dt>RTSP address</dt><dd className="mono">{c.rtspUrl ?? 'Not set'}</dd></div>
        <div><dt>Transport</dt><dd>{c.rtspTransport.toUpperCase()}</dd></div>
        <div><dt>Inference size</dt><dd>{c.inferenceSize} px</dd></div>
        <div><dt>Pictures a second</dt><dd>{c.targetFps}</dd></div>
        <div><dt>Zone</dt><dd>{c.zone}</dd></div>
        <div><dt>Floor-plan position</dt><dd>{c.position ? `${c.position.x}, ${c.position.y}` : 'Not set'}</dd></div>
        <div><dt>Placeholder after</dt><dd>{c.fallbackAfterFailures} failures</dd></div>
        <div><dt>Use placeholder</dt><dd>{c.usePlaceholder ? 'Yes' : 'No'}</dd></div>
      </dl>
    </>
  );
}
