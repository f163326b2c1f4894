import { useCallback, useEffect, useRef, useState } from 'react';
import { cameraSnapshotUrl, cameraStreamUrl, type Camera, type CameraStatus } from '../../api/cameras';

const STATUS_WORDS: Record<CameraStatus, string> = { connecting: 'Connecting', online: 'Online', error: 'Error', offline: 'Offline' };
const STATUS_GLYPHS: Record<CameraStatus, string> = { connecting: '…', online: '✓', error: '!', offline: '–' };

/** A camera's status as a glyph and a word on a coloured badge: never colour alone. */
export function CameraStatusBadge({ status }: { status: CameraStatus }) {
  return (
    <span className={`camera-status camera-status-${status}`} data-status={status}>
      <span aria-hidden="true">{STATUS_GLYPHS[status]}</span> {STATUS_WORDS[status]}
    </span>
  );
}

export function cameraStatusWord(status: CameraStatus): string {
  return STATUS_WORDS[status];
}

/** Phones and data-saver browsers get fewer pictures: a tile every 10 s instead of at the camera's rate. */
function savingData(): boolean {
  const connection = (navigator as Navigator & { connection?: { saveData?: boolean } }).connection;
  return Boolean(connection?.saveData) || window.matchMedia('(max-width: 600px)').matches;
}

/** How often a tile asks for a new picture: the camera's own rate (it has no newer frame sooner), 1–5 s. */
function snapshotIntervalMs(targetFps: number): number {
  if (savingData()) return 10_000;
  return Math.min(5000, Math.max(1000, 1000 / targetFps));
}

/** Whether the element is on screen and the tab is visible: off-screen tiles fetch nothing. */
function useWatched(ref: React.RefObject<HTMLElement | null>): boolean {
  const [onScreen, setOnScreen] = useState(true);
  const [visible, setVisible] = useState(() => document.visibilityState !== 'hidden');
  useEffect(() => {
    const element = ref.current;
    if (!element || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver(([entry]) => setOnScreen(entry?.isIntersecting ?? true));
    observer.observe(element);
    return () => observer.disconnect();
  }, [ref]);
  useEffect(() => {
    const update = () => setVisible(document.visibilityState !== 'hidden');
    document.addEventListener('visibilitychange', update);
    return () => document.removeEventListener('visibilitychange', update);
  }, []);
  return onScreen && visible;
}

function NoPicture({ text }: { text: string }) {
  return <div className="camera-no-picture"><span>{text}</span></div>;
}

/**
 * A grid tile's picture: the camera's latest JPEG, fetched again at the camera's frame rate while the
 * tile is on screen. Snapshots rather than an MJPEG `<img>` per tile because a browser holds at most six
 * HTTP/1.1 connections to a server, and each MJPEG stream keeps one open for good: a wall of eight
 * cameras would leave the console no connection for its own requests. The camera decodes 0.25–2
 * pictures a second, so a snapshot at that rate shows every picture the stream would.
 */
export function CameraSnapshot({ camera }: { camera: Camera }) {
  const box = useRef<HTMLDivElement>(null);
  const watched = useWatched(box);
  const [picture, setPicture] = useState<{ url: string | null; failed: boolean }>({ url: null, failed: false });
  // The shown picture's blob, released when the next one arrives and when the tile goes.
  const shown = useRef<string | null>(null);
  const show = useCallback((url: string | null) => {
    if (shown.current) URL.revokeObjectURL(shown.current);
    shown.current = url;
    setPicture({ url, failed: url === null });
  }, []);
  useEffect(() => () => {
    if (shown.current) URL.revokeObjectURL(shown.current);
  }, []);
  const active = watched && camera.status !== 'offline';

  useEffect(() => {
    if (!active) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const controller = new AbortController();
    const load = async () => {
      try {
        const response = await fetch(cameraSnapshotUrl(camera.id), { credentials: 'same-origin', signal: controller.signal, cache: 'no-store' });
        if (!response.ok) throw new Error(String(response.status));
        const blob = await response.blob();
        if (stopped) return;
        show(URL.createObjectURL(blob));
      } catch {
        if (stopped) return;
        show(null);
      }
      timer = setTimeout(() => void load(), snapshotIntervalMs(camera.targetFps));
    };
    void load();
    return () => {
      stopped = true;
      controller.abort();
      clearTimeout(timer);
    };
  }, [active, camera.id, camera.targetFps, show]);

  return (
    <div className="camera-picture" ref={box}>
      {camera.status === 'offline' ? <NoPicture text="No picture: no worker decodes this camera" />
        : picture.url ? <img src={picture.url} alt={`Latest picture of ${camera.name}`} />
          : <NoPicture text={!picture.failed ? 'Loading the picture…' : camera.status === 'error' ? 'No picture' : 'No picture yet'} />}
    </div>
  );
}

/**
 * The camera page's live view: the MJPEG stream in one `<img>` (the browser follows it by itself), with
 * `overlay` drawn over it given the picture's proportions (frames are squares unless told otherwise).
 */
export function CameraLiveView({ camera, overlay }: { camera: Camera; overlay?: (aspect: number) => React.ReactNode }) {
  const [aspect, setAspect] = useState(1);
  const [attempt, setAttempt] = useState(0);
  const [failed, setFailed] = useState(false);
  // A camera that comes back online gets a new stream.
  const [seenStatus, setSeenStatus] = useState(camera.status);
  if (seenStatus !== camera.status) {
    setSeenStatus(camera.status);
    if (camera.status === 'online' && failed) {
      setFailed(false);
      setAttempt((n) => n + 1);
    }
  }
  if (camera.status === 'offline') return <div className="camera-live"><NoPicture text="No picture: no worker decodes this camera" /></div>;
  return (
    <div className="camera-live">
      {failed ? (
        <div className="camera-no-picture">
          <span>The live picture is not available.</span>
          <button type="button" className="button button-small" onClick={() => { setFailed(false); setAttempt((n) => n + 1); }}>Try again</button>
        </div>
      ) : (
        <img
          key={attempt} src={cameraStreamUrl(camera.id)} alt={`Live picture of ${camera.name}`} onError={() => setFailed(true)}
          onLoad={(e) => { if (e.currentTarget.naturalHeight > 0) setAspect(e.currentTarget.naturalWidth / e.currentTarget.naturalHeight); }}
        />
      )}
      {overlay?.(aspect)}
    </div>
  );
}
