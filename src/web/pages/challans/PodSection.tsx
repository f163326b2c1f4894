import { usePodVersions, type Challan } from '../../api/challans';
import { formatTime } from '../../lib/format';
import { PodDropZone } from './PodUpload';

function size(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

/** Why a file shows no picture: said plainly, since a missing preview is never an error. */
function noPreview(contentType: string): string {
  return contentType === 'application/pdf'
    ? 'No preview of this PDF: the server could not draw its first page. Download it to see it.'
    : 'Word documents have no preview. Download it to see it.';
}

/** The drawer's proof of delivery: the current file (a thumbnail for photos), upload, and every earlier version. */
export function PodSection({ challan, canWrite, onUploaded, zone }: { challan: Challan; canWrite: boolean; onUploaded: (message: string, challan: Challan) => void; zone: string }) {
  const versions = usePodVersions(challan.id, challan.pod !== null);
  const pod = challan.pod;
  return (
    <section className="pod-section" aria-labelledby="pod-heading">
      <h3 id="pod-heading">Proof of delivery</h3>
      {pod ? (
        <div className="pod-current">
          {pod.previewUrl
            ? <a href={pod.url} target="_blank" rel="noreferrer"><img className="pod-preview" src={pod.previewUrl} alt={`Signed copy of ${challan.number}${pod.contentType === 'application/pdf' ? ' (first page)' : ''}`} /></a>
            : <span className="challan-pod-doc pod-preview" aria-hidden="true">{pod.fileName.split('.').pop()?.toUpperCase().slice(0, 4)}</span>}
          <div>
            <a href={pod.url} download={pod.fileName} className="break-anywhere">Download {pod.fileName}</a>
            <p className="small muted">
              Version {pod.version} · {size(pod.sizeBytes)}{challan.podUploadedAt ? ` · uploaded ${formatTime(challan.podUploadedAt, zone)}` : ''}
            </p>
            {!pod.previewUrl && <p className="small muted pod-no-preview">{noPreview(pod.contentType)}</p>}
          </div>
        </div>
      ) : (
        <p className="small"><span className="challan-badge challan-badge-missing"><span aria-hidden="true">!</span>Missing</span> No signed copy yet.</p>
      )}
      {canWrite && <PodDropZone challan={challan} onDone={onUploaded} />}
      {pod && versions.data && versions.data.items.length > 1 && (
        <details className="pod-versions">
          <summary>Earlier versions ({versions.data.items.length - 1})</summary>
          <ul className="attachment-list">
            {versions.data.items.filter((v) => !v.current).map((v) => (
              <li key={v.id}>
                <a href={v.url} download={v.fileName}>v{v.version}: {v.fileName}</a>
                <span className="small muted">{formatTime(v.uploadedAt, zone)}{v.uploadedByName ? ` · ${v.uploadedByName}` : ''}</span>
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}
