import { useState, type FormEvent } from 'react';
import { useCameraPresets, useSaveCameraSettings, useTestCamera, type Camera, type CameraPresets, type CameraSettings } from '../../api/cameras';
import { ApiError } from '../../api/client';
import { TextField } from '../TextField';

/** The settings form as typed: text stays text until checked. */
interface Draft {
  source: 'rtsp' | 'file';
  rtspUrl: string;
  rtspTransport: 'tcp' | 'udp';
  sizeChoice: string;
  customSize: string;
  targetFps: string;
  zone: string;
  positionX: string;
  positionY: string;
  fallbackAfterFailures: string;
  usePlaceholder: boolean;
}

/** How the server's field names read in a sentence: "The RTSP address must start with rtsp://". */
const FIELD_NAMES: Record<string, string> = {
  source: 'The source', rtspUrl: 'The RTSP address', rtspTransport: 'The transport', inferenceSize: 'The inference size', targetFps: 'The rate',
  zone: 'The zone', position: 'The position', 'position.x': 'The position across', 'position.y': 'The position down',
  fallbackAfterFailures: 'The number of failures', usePlaceholder: 'Use placeholder:',
};

/** The form's messages: local checks first, then the server's answer at its field, the rest above the buttons. */
function settingsErrors(error: unknown, local: Record<string, string>) {
  const server = error instanceof ApiError ? error : null;
  const field = (name: string): string | undefined => {
    if (local[name]) return local[name];
    const message = server?.fieldMessage(name)?.trim();
    if (!message) return undefined;
    return `${FIELD_NAMES[name] ?? name} ${message}${/[.!?)]$/.test(message) ? '' : '.'}`;
  };
  const namesAField = server?.details.some((d) => d.field in FIELD_NAMES) ?? false;
  return { field, other: error instanceof Error && !namesAField ? error.message : null };
}

function draftOf(camera: Camera, presets: CameraPresets | undefined): Draft {
  const preset = presets?.inferenceSizes.some((p) => p.size === camera.inferenceSize) ?? [640, 720, 1080].includes(camera.inferenceSize);
  return {
    source: camera.source,
    rtspUrl: camera.rtspUrl ?? '',
    rtspTransport: camera.rtspTransport,
    sizeChoice: preset ? String(camera.inferenceSize) : 'custom',
    customSize: String(camera.inferenceSize),
    targetFps: String(camera.targetFps),
    zone: camera.zone,
    positionX: camera.position ? String(camera.position.x) : '',
    positionY: camera.position ? String(camera.position.y) : '',
    fallbackAfterFailures: String(camera.fallbackAfterFailures),
    usePlaceholder: camera.usePlaceholder,
  };
}

function number(text: string): number | null {
  const trimmed = text.trim().replace(',', '.');
  if (trimmed === '') return null;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : Number.NaN;
}

/** What changed, or the fields to correct first (the server checks everything again). */
function changes(draft: Draft, camera: Camera, presets: CameraPresets | undefined): { patch: CameraSettings; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const patch: CameraSettings = {};
  if (draft.source !== camera.source) patch.source = draft.source;
  const url = draft.rtspUrl.trim() || null;
  if (url !== camera.rtspUrl) patch.rtspUrl = url;
  if (draft.rtspTransport !== camera.rtspTransport) patch.rtspTransport = draft.rtspTransport;
  const min = presets?.inferenceSizeMin ?? 320;
  const max = presets?.inferenceSizeMax ?? 1920;
  const size = draft.sizeChoice === 'custom' ? number(draft.customSize) : Number(draft.sizeChoice);
  if (size === null || !Number.isInteger(size) || size < min || size > max) errors.inferenceSize = `Enter a whole number of pixels from ${min} to ${max}.`;
  else if (size !== camera.inferenceSize) patch.inferenceSize = size;
  const fps = number(draft.targetFps);
  if (fps === null || !(fps >= (presets?.targetFpsMin ?? 0.25) && fps <= (presets?.targetFpsMax ?? 2))) errors.targetFps = 'Choose a rate from 0.25 to 2 pictures a second.';
  else if (fps !== camera.targetFps) patch.targetFps = fps;
  if (!draft.zone.trim()) errors.zone = 'Name the area the camera watches.';
  else if (draft.zone.trim() !== camera.zone) patch.zone = draft.zone.trim();
  const x = number(draft.positionX);
  const y = number(draft.positionY);
  if ((x === null) !== (y === null)) errors[x === null ? 'position.x' : 'position.y'] = 'Enter both, or neither.';
  else if (x !== null && y !== null) {
    if (!(x >= 0 && x <= 1)) errors['position.x'] = 'Enter a fraction from 0 to 1.';
    if (!(y >= 0 && y <= 1)) errors['position.y'] = 'Enter a fraction from 0 to 1.';
    if (x !== camera.position?.x || y !== camera.position?.y) patch.position = { x, y };
  } else if (camera.position) patch.position = null;
  const failures = number(draft.fallbackAfterFailures);
  if (failures === null || !Number.isInteger(failures) || failures < 1 || failures > 100) errors.fallbackAfterFailures = 'Enter a whole number from 1 to 100.';
  else if (failures !== camera.fallbackAfterFailures) patch.fallbackAfterFailures = failures;
  if (draft.usePlaceholder !== camera.usePlaceholder) patch.usePlaceholder = draft.usePlaceholder;
  return { patch, errors };
}

/** An admin's form for a camera's video settings, with the server's complaints at their fields and a connection test. */
export function CameraSettingsForm({ camera, onSaved }: { camera: Camera; onSaved: (text: string) => void }) {
  const presets = useCameraPresets();
  const [draft, setDraft] = useState<Draft | null>(null);
  const [local, setLocal] = useState<Record<string, string>>({});
  const save = useSaveCameraSettings(camera.id);
  const test = useTestCamera(camera.id);
  const form = draft ?? draftOf(camera, presets.data);
  const { field, other } = settingsErrors(save.error, local);

  const change = (patch: Partial<Draft>) => {
    setDraft({ ...form, ...patch });
    setLocal({});
    if (save.isError) save.reset();
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const { patch, errors } = changes(form, camera, presets.data);
    setLocal(errors);
    if (Object.keys(errors).length > 0) return;
    if (Object.keys(patch).length === 0) {
      onSaved('Nothing to save: the settings are unchanged.');
      return;
    }
    save.mutate(patch, {
      onSuccess: () => {
        setDraft(null);
        onSaved('Camera settings saved.');
      },
    });
  };

  const fpsChoices = [...new Set([...(presets.data?.targetFps ?? [0.25, 0.5, 1, 2]), camera.targetFps])].sort((a, b) => a - b);
  const unsaved = draft !== null && Object.keys(changes(form, camera, presets.data).patch).length > 0;
  return (
    <form onSubmit={submit} noValidate aria-label="Camera settings">
      <fieldset className="radio-group">
        <legend>Source</legend>
        <label><input type="radio" name="source" value="rtsp" checked={form.source === 'rtsp'} onChange={() => change({ source: 'rtsp' })} /> The camera's RTSP stream</label>
        <label><input type="radio" name="source" value="file" checked={form.source === 'file'} onChange={() => change({ source: 'file' })} aria-describedby={field('source') ? 'source-error' : undefined} /> The placeholder video</label>
        {field('source') && <span className="field-error" id="source-error" role="alert">{field('source')}</span>}
      </fieldset>
      <TextField
        id="camera-rtsp-url" label="RTSP address" value={form.rtspUrl} onChange={(e) => change({ rtspUrl: e.target.value })}
        placeholder="rtsp://192.168.1.20:554/stream1" autoComplete="off" spellCheck={false} error={field('rtspUrl')}
        hint="Without user name or password: set those under Credentials, where they are stored encrypted."
      />
      <div className="field-row">
        <div className="field">
          <label htmlFor="camera-transport">Transport</label>
          <select id="camera-transport" value={form.rtspTransport} onChange={(e) => change({ rtspTransport: e.target.value as Draft['rtspTransport'] })}>
            <option value="tcp">TCP (passes firewalls and NAT)</option>
            <option value="udp">UDP (same network)</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="camera-size">Inference size</label>
          <select id="camera-size" value={form.sizeChoice} onChange={(e) => change({ sizeChoice: e.target.value })} aria-describedby={field('inferenceSize') && form.sizeChoice !== 'custom' ? 'camera-size-error' : undefined}>
            {(presets.data?.inferenceSizes ?? [{ name: 'low', size: 640 }, { name: 'medium', size: 720 }, { name: 'high', size: 1080 }]).map((p) => (
              <option key={p.size} value={p.size}>{p.size} px ({p.name})</option>
            ))}
            <option value="custom">Custom</option>
          </select>
          {field('inferenceSize') && form.sizeChoice !== 'custom' && <span className="field-error" id="camera-size-error" role="alert">{field('inferenceSize')}</span>}
        </div>
        {form.sizeChoice === 'custom' && (
          <TextField id="camera-custom-size" label="Custom size (px)" inputMode="numeric" value={form.customSize} onChange={(e) => change({ customSize: e.target.value })} error={field('inferenceSize')} />
        )}
        <div className="field">
          <label htmlFor="camera-fps">Pictures a second</label>
          <select id="camera-fps" value={form.targetFps} onChange={(e) => change({ targetFps: e.target.value })}>
            {fpsChoices.map((fps) => <option key={fps} value={String(fps)}>{fps}</option>)}
          </select>
          {field('targetFps') && <span className="field-error" role="alert">{field('targetFps')}</span>}
        </div>
      </div>
      <TextField id="camera-zone" label="Zone" value={form.zone} maxLength={100} onChange={(e) => change({ zone: e.target.value })} error={field('zone')} hint="The area the camera watches, e.g. Loading bay." />
      <div className="field-row">
        <TextField id="camera-position-x" label="Floor-plan position: across (0–1)" inputMode="decimal" value={form.positionX} onChange={(e) => change({ positionX: e.target.value })} error={field('position.x') ?? field('position')} />
        <TextField id="camera-position-y" label="Floor-plan position: down (0–1)" inputMode="decimal" value={form.positionY} onChange={(e) => change({ positionY: e.target.value })} error={field('position.y')} />
        <TextField id="camera-fallback" label="Placeholder after failures" inputMode="numeric" value={form.fallbackAfterFailures} onChange={(e) => change({ fallbackAfterFailures: e.target.value })} error={field('fallbackAfterFailures')} />
      </div>
      <div className="field field-checkbox">
        <input id="camera-use-placeholder" type="checkbox" checked={form.usePlaceholder} onChange={(e) => change({ usePlaceholder: e.target.checked })} aria-describedby={field('usePlaceholder') ? 'camera-use-placeholder-error' : undefined} />
        <label htmlFor="camera-use-placeholder">Play the placeholder video instead of the camera</label>
      </div>
      {field('usePlaceholder') && <span className="field-error" id="camera-use-placeholder-error" role="alert">{field('usePlaceholder')}</span>}
      {other && <p className="form-error" role="alert">{other}</p>}
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={save.isPending}>{save.isPending ? 'Saving…' : 'Save settings'}</button>
        <button type="button" className="button" disabled={test.isPending || unsaved} onClick={() => test.mutate()} title={unsaved ? 'Save the settings first: the test uses the saved address' : undefined}>
          {test.isPending ? 'Testing… (up to 10 s)' : 'Test connection'}
        </button>
      </div>
      <TestResult test={test} unsaved={unsaved} />
    </form>
  );
}

function TestResult({ test, unsaved }: { test: ReturnType<typeof useTestCamera>; unsaved: boolean }) {
  return (
    <p className="camera-test-result" role="status" aria-live="polite">
      {unsaved && !test.isPending && <span className="muted">The test opens the saved address: save your changes first.</span>}
      {test.isError && <span className="field-error">The test could not run: {test.error.message}</span>}
      {test.data && !test.isPending && (test.data.ok
        ? <span className="camera-test-ok">✓ Connected: {test.data.width}×{test.data.height} in {(test.data.elapsedMs / 1000).toFixed(1)} s</span>
        : <span className="camera-test-failed">✗ No picture: {test.data.cause} ({(test.data.elapsedMs / 1000).toFixed(1)} s)</span>)}
    </p>
  );
}
