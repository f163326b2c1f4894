import { useRef, useState, type FormEvent } from 'react';
import { useUploadPlaceholder, type Camera } from '../../api/cameras';
import { formatTime } from '../../lib/format';

function megabytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

/** The placeholder video: what is stored, and for admins an upload with its progress and the server's verdict. */
export function CameraPlaceholder({ camera, canEdit, zone, onSaved }: { camera: Camera; canEdit: boolean; zone: string; onSaved: (text: string) => void }) {
  const [progress, setProgress] = useState<number | null>(null);
  const [file, setFile] = useState<File | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const upload = useUploadPlaceholder(camera.id, setProgress);
  const video = camera.placeholder;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!file) return;
    setProgress(0);
    upload.mutate(file, {
      onSuccess: () => {
        setFile(null);
        if (input.current) input.current.value = '';
        onSaved('Placeholder video uploaded.');
      },
      onSettled: () => setProgress(null),
    });
  };

  return (
    <section className="panel" aria-labelledby="camera-placeholder-heading">
      <h2 id="camera-placeholder-heading">Placeholder video</h2>
      <p className="muted">Played when “use placeholder” is on, when the source is the video, and after the camera fails {camera.fallbackAfterFailures} times in a row (with a red DEMO band).</p>
      {video ? (
        <dl className="details">
          <div><dt>File</dt><dd>{video.fileName}</dd></div>
          <div><dt>Video</dt><dd>{video.width}×{video.height}, {video.durationSeconds.toFixed(1)} s, {megabytes(video.sizeBytes)}</dd></div>
          <div><dt>Uploaded</dt><dd><time dateTime={video.uploadedAt}>{formatTime(video.uploadedAt, zone)}</time></dd></div>
        </dl>
      ) : <p><strong>No placeholder video.</strong></p>}
      {canEdit && (
        <form onSubmit={submit} className="camera-upload" aria-label="Upload a placeholder video">
          <div className="field">
            <label htmlFor="camera-placeholder-file">{video ? 'Replace with' : 'Video file'} (MP4 or WebM)</label>
            <input
              id="camera-placeholder-file" ref={input} type="file" accept="video/mp4,video/webm"
              onChange={(e) => { setFile(e.target.files?.[0] ?? null); upload.reset(); }}
              aria-describedby={upload.isError ? 'camera-placeholder-error' : undefined} aria-invalid={upload.isError || undefined}
            />
            {upload.isError && <span className="field-error" id="camera-placeholder-error" role="alert">{upload.error.message}</span>}
          </div>
          <div className="form-actions">
            <button type="submit" className="button" disabled={!file || upload.isPending}>{upload.isPending ? 'Uploading…' : 'Upload video'}</button>
            {progress !== null && (
              <progress max={100} value={Math.round(progress * 100)} aria-label="Upload progress">{Math.round(progress * 100)}%</progress>
            )}
            {upload.isPending && progress !== null && progress >= 1 && <span className="muted">Checking the video…</span>}
          </div>
        </form>
      )}
    </section>
  );
}
