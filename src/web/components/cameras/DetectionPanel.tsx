import type { Camera } from '../../api/cameras';
import { ZoneEditor } from './ZoneEditor';

const MODE_WORDS = { both: 'PPE and zones', ppe: 'PPE only', zone: 'Zones only', off: 'Off' } as const;
const STATUS_WORDS = { running: 'Running', idle: 'Idle (no worker runs the camera)', off: 'Off', error: 'Error' } as const;

/** The camera's detection: the detector's state for everyone; admins edit zones, masks, mode and thresholds. */
export function DetectionPanel({ camera, canEdit, onSaved }: { camera: Camera; canEdit: boolean; onSaved: (message: string) => void }) {
  const d = camera.detection;
  return (
    <section className="panel" aria-labelledby="camera-detection-heading">
      <h2 id="camera-detection-heading">Detection</h2>
      <p className="small" data-testid="detection-status">
        <strong>{STATUS_WORDS[d.status]}</strong>{d.statusCause ? <> · <span className="camera-cause">{d.statusCause}</span></> : null}
      </p>
      {canEdit ? (
        // Keyed by the saved settings: a save (or a change by another admin) starts the editor from them again.
        <ZoneEditor key={JSON.stringify([d.mode, d.confidence, d.minPersonArea, d.zones, d.masks])} camera={camera} onSaved={onSaved} />
      ) : (
        <>
          <p className="small muted">Administrators draw zones and masks and change these settings.</p>
          <dl className="details" aria-label="Detection settings">
            <div><dt>Detection</dt><dd>{MODE_WORDS[d.mode]}</dd></div>
            <div><dt>Confidence threshold</dt><dd>{d.confidence.toFixed(2)}</dd></div>
            <div><dt>Least person size</dt><dd>{Math.round(d.minPersonArea * 100_000) / 1000} % of the picture</dd></div>
            <div><dt>Zones</dt><dd>{d.zones.length > 0 ? d.zones.map((z) => z.name).join(', ') : 'None'}</dd></div>
            <div><dt>Masks</dt><dd>{d.masks.length}</dd></div>
          </dl>
        </>
      )}
    </section>
  );
}
