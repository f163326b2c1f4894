import { useState, type KeyboardEvent as ReactKeyboardEvent, type PointerEvent as ReactPointerEvent } from 'react';
import { cameraSnapshotUrl, useSaveCameraSettings, type Camera, type DetectionMode, type DetectionSettings, type Polygon } from '../../api/cameras';
import { ApiError } from '../../api/client';
import { centroid, pointsAttribute, useElementSize } from './ZoneShapes';

interface Shape {
  kind: 'zone' | 'mask';
  name: string;
  polygon: Polygon;
}

const MODES: { value: DetectionMode; label: string }[] = [
  { value: 'both', label: 'PPE and zones' }, { value: 'ppe', label: 'PPE only (hard hats, vests)' },
  { value: 'zone', label: 'Zones only' }, { value: 'off', label: 'Off (the camera only streams)' },
];

const round = (value: number) => Math.round(Math.min(1, Math.max(0, value)) * 10_000) / 10_000;

/** How far an arrow key moves the drawing cross or a corner: 1% of the picture, 10% with Shift. */
const ARROWS: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
function nudged(point: readonly [number, number], event: ReactKeyboardEvent): [number, number] | null {
  const direction = ARROWS[event.key];
  if (!direction) return null;
  const step = event.shiftKey ? 0.1 : 0.01;
  return [round(point[0] + direction[0] * step), round(point[1] + direction[1] * step)];
}
const percent = ([x, y]: readonly [number, number]) => `${Math.round(x * 100)}%, ${Math.round(y * 100)}%`;

/** Why the editor shows no picture, from the camera's status (only an online camera has a latest frame). */
function noPictureText(camera: Camera, failed: boolean): string {
  const why = failed ? 'No picture from the camera yet'
    : camera.status === 'offline' ? 'No picture: no worker decodes this camera'
      : camera.status === 'error' ? `No picture: ${camera.statusCause ?? 'the camera is in error'}`
        : 'No picture yet: the camera is connecting';
  return `${why}. Shapes are drawn on a blank frame of the same proportions.`;
}

function shapesOf(detection: DetectionSettings): Shape[] {
  return [
    ...detection.zones.map((zone) => ({ kind: 'zone' as const, name: zone.name, polygon: zone.polygon })),
    ...detection.masks.map((polygon) => ({ kind: 'mask' as const, name: '', polygon })),
  ];
}

/** The server's complaints about the detection settings, at the field they name (`detection.zones.1.name`). */
function fieldErrors(error: unknown, shapes: Shape[]) {
  const details = error instanceof ApiError ? error.details : [];
  const about = (prefix: string) => details.filter((d) => d.field === prefix || d.field.startsWith(`${prefix}.`)).map((d) => d.message).join('; ') || undefined;
  let zone = -1;
  let mask = -1;
  const perShape = shapes.map((shape) => (shape.kind === 'zone' ? about(`detection.zones.${++zone}`) : about(`detection.masks.${++mask}`)));
  const named = (field: string) => details.find((d) => d.field === field)?.message;
  const other = error instanceof Error && details.length === 0 ? error.message : null;
  return { perShape, confidence: named('detection.confidence'), minPersonArea: named('detection.minPersonArea'), mode: named('detection.mode'), other };
}

/**
 * Admins draw the camera's restricted zones and masks over its latest picture: "Draw a zone", then a click
 * (or tap) per corner and "Finish shape"; a selected shape's corners are dragged to move them. Points are
 * fractions of the picture (docs/detection.md), saved with the mode and thresholds through the camera's PATCH.
 */
export function ZoneEditor({ camera, onSaved }: { camera: Camera; onSaved: (message: string) => void }) {
  const [shapes, setShapes] = useState<Shape[]>(() => shapesOf(camera.detection));
  const [mode, setMode] = useState<DetectionMode>(camera.detection.mode);
  const [confidence, setConfidence] = useState(camera.detection.confidence);
  const [minArea, setMinArea] = useState(String(Math.round(camera.detection.minPersonArea * 100_000) / 1000));
  const [selected, setSelected] = useState<number | null>(null);
  const [drawing, setDrawing] = useState<{ kind: 'zone' | 'mask'; points: Polygon } | null>(null);
  const [dragging, setDragging] = useState<number | null>(null);
  // The keyboard's drawing cross: shown once an arrow key moved it, so that mouse and touch users never see it.
  const [cross, setCross] = useState<{ at: [number, number]; shown: boolean }>({ at: [0.5, 0.5], shown: false });
  const [aspect, setAspect] = useState(1);
  // The snapshot is asked for only while the camera is online (otherwise it answers 503); a new status or
  // "New picture" asks again. `failed` names the request that found no picture.
  const [pictureAt, setPictureAt] = useState(() => Date.now());
  const pictureKey = `${camera.statusChangedAt}-${pictureAt}`;
  const [failed, setFailed] = useState<string | null>(null);
  const online = camera.status === 'online';
  const showPicture = online && failed !== pictureKey;
  const [svg, setSvg] = useState<SVGSVGElement | null>(null);
  const size = useElementSize(svg);
  const save = useSaveCameraSettings(camera.id);
  const errors = fieldErrors(save.error, shapes);

  const at = (event: ReactPointerEvent): [number, number] => {
    const rect = svg!.getBoundingClientRect();
    return [round((event.clientX - rect.left) / rect.width), round((event.clientY - rect.top) / rect.height)];
  };
  const change = (index: number, next: Partial<Shape>) => setShapes((all) => all.map((s, i) => (i === index ? { ...s, ...next } : s)));

  const onPointerDown = (event: ReactPointerEvent<SVGSVGElement>) => {
    if (!drawing || event.button !== 0) return;
    event.preventDefault();
    const point = at(event);
    addCorner(point);
  };
  // From the latest state: quick taps can come before a render. A double click's second press (or a
  // double tap) lands on the corner just made: not a new corner.
  const addCorner = (point: [number, number]) => setDrawing((d) => {
    if (!d) return d;
    const last = d.points[d.points.length - 1];
    if (last && Math.abs(last[0] - point[0]) < 0.01 && Math.abs(last[1] - point[1]) < 0.01) return d;
    return { ...d, points: [...d.points, point] };
  });
  // Drawing without a pointer: arrow keys move the cross, Enter or Space puts a corner there, Backspace takes the last one back, Escape cancels.
  const onCanvasKey = (event: ReactKeyboardEvent<SVGSVGElement>) => {
    if (!drawing || event.target !== event.currentTarget) return;
    const moved = nudged(cross.at, event);
    if (moved) setCross({ at: moved, shown: true });
    else if (event.key === 'Enter' || event.key === ' ') addCorner(cross.at);
    else if (event.key === 'Backspace') setDrawing({ ...drawing, points: drawing.points.slice(0, -1) });
    else if (event.key === 'Escape') setDrawing(null);
    else return;
    event.preventDefault();
  };
  // A selected shape's corner, focused with Tab, moves with the arrow keys.
  const onCornerKey = (event: ReactKeyboardEvent<SVGCircleElement>, point: number) => {
    if (selected === null) return;
    const moved = nudged(shapes[selected]!.polygon[point]!, event);
    if (!moved) return;
    event.preventDefault();
    change(selected, { polygon: shapes[selected]!.polygon.map((p, i) => (i === point ? moved : p)) });
  };
  const onPointerMove = (event: ReactPointerEvent<SVGSVGElement>) => {
    if (dragging === null || selected === null) return;
    const polygon = shapes[selected]!.polygon.map((p, i) => (i === dragging ? at(event) : p));
    change(selected, { polygon });
  };
  const startDrawing = (kind: 'zone' | 'mask') => {
    setSelected(null);
    setDrawing({ kind, points: [] });
    setCross({ at: [0.5, 0.5], shown: false });
    // The buttons give way to Finish and Cancel: the canvas takes the focus, ready for the arrow keys.
    svg?.focus({ preventScroll: true });
  };
  const finish = () => {
    if (!drawing || drawing.points.length < 3) return;
    const zones = shapes.filter((s) => s.kind === 'zone').length;
    const names = new Set(shapes.map((s) => s.name));
    let n = zones + 1;
    while (names.has(`Zone ${n}`)) n++;
    setShapes([...shapes, { kind: drawing.kind, name: drawing.kind === 'zone' ? `Zone ${n}` : '', polygon: drawing.points }]);
    setSelected(shapes.length);
    setDrawing(null);
  };
  const remove = (index: number) => {
    setShapes(shapes.filter((_, i) => i !== index));
    setSelected(null);
  };

  const area = Number(minArea.replace(',', '.')) / 100;
  const areaProblem = minArea.trim() === '' || !(area >= 0 && area <= 0.5) ? 'must be a number from 0 to 50' : undefined;
  const submit = () => {
    if (areaProblem) return;
    const detection: Partial<DetectionSettings> = {
      mode, confidence,
      zones: shapes.filter((s) => s.kind === 'zone').map((s) => ({ name: s.name.trim(), polygon: s.polygon })),
      masks: shapes.filter((s) => s.kind === 'mask').map((s) => s.polygon),
      minPersonArea: area,
    };
    save.mutate({ detection }, { onSuccess: () => onSaved('Detection settings saved.') });
  };

  let maskNumber = 0;
  const maskLabels = shapes.map((s) => (s.kind === 'mask' ? `Mask ${++maskNumber}` : s.name));
  const { width, height } = size;
  return (
    <div className="zone-editor">
      <div className="zone-editor-stage" style={{ aspectRatio: String(aspect) }}>
        {showPicture && (
          <img
            key={pictureKey} src={`${cameraSnapshotUrl(camera.id)}?at=${pictureAt}`} alt="" data-testid="zone-picture"
            onLoad={(e) => { if (e.currentTarget.naturalHeight > 0) setAspect(e.currentTarget.naturalWidth / e.currentTarget.naturalHeight); }}
            onError={() => setFailed(pictureKey)}
          />
        )}
        <svg
          ref={setSvg} className={`zone-editor-canvas${drawing ? ' zone-editor-drawing' : ''}`} data-testid="zone-canvas"
          role="group" tabIndex={drawing ? 0 : -1}
          aria-label={drawing ? `Drawing a ${drawing.kind}: click or tap each corner, or move the cross with the arrow keys and press Enter` : 'Zones and masks of the camera'}
          onPointerDown={onPointerDown} onPointerMove={onPointerMove} onPointerUp={() => setDragging(null)} onPointerCancel={() => setDragging(null)}
          onDoubleClick={finish} onKeyDown={onCanvasKey}
        >
          {width > 0 && shapes.map((shape, index) => {
            const [cx, cy] = centroid(shape.polygon);
            return (
              <g key={index} className={selected === index ? 'zone-editor-selected' : undefined}>
                <polygon
                  className={shape.kind === 'zone' ? 'zone-shape-zone' : 'zone-shape-mask'} points={pointsAttribute(shape.polygon, width, height)}
                  onPointerDown={() => { if (!drawing) setSelected(index); }}
                />
                <text className="zone-shape-label" x={cx * width} y={cy * height} textAnchor="middle">{maskLabels[index]}</text>
              </g>
            );
          })}
          {width > 0 && selected !== null && !drawing && shapes[selected]?.polygon.map(([x, y], point) => (
            <circle
              key={point} className="zone-editor-handle" cx={x * width} cy={y * height} r={9}
              tabIndex={0} role="button" aria-label={`Corner ${point + 1} of ${maskLabels[selected] || 'the zone'} at ${percent([x, y])}: arrow keys move it`}
              onKeyDown={(event) => onCornerKey(event, point)}
              onPointerDown={(event) => { event.stopPropagation(); event.currentTarget.ownerSVGElement?.setPointerCapture(event.pointerId); setDragging(point); }}
            />
          ))}
          {width > 0 && drawing && drawing.points.length > 0 && (
            <>
              <polyline className={`zone-editor-draft zone-editor-draft-${drawing.kind}`} points={pointsAttribute(drawing.points, width, height)} />
              {drawing.points.map(([x, y], point) => <circle key={point} className="zone-editor-handle" cx={x * width} cy={y * height} r={6} />)}
            </>
          )}
          {width > 0 && drawing && cross.shown && (
            <g className="zone-editor-cross" data-testid="zone-cross">
              <line x1={cross.at[0] * width - 12} x2={cross.at[0] * width + 12} y1={cross.at[1] * height} y2={cross.at[1] * height} />
              <line x1={cross.at[0] * width} x2={cross.at[0] * width} y1={cross.at[1] * height - 12} y2={cross.at[1] * height + 12} />
            </g>
          )}
        </svg>
        {!showPicture && <p className="zone-editor-no-picture">{noPictureText(camera, online)}</p>}
      </div>
      <div className="form-actions">
        {drawing ? (
          <>
            <span className="small" role="status">
              {drawing.points.length} {drawing.points.length === 1 ? 'corner' : 'corners'}; at least 3.{cross.shown && ` Cross at ${percent(cross.at)}.`}
            </span>
            <button type="button" className="button button-primary" onClick={finish} disabled={drawing.points.length < 3}>Finish shape</button>
            <button type="button" className="button" onClick={() => setDrawing(null)}>Cancel drawing</button>
          </>
        ) : (
          <>
            <button type="button" className="button" onClick={() => startDrawing('zone')}>Draw a zone</button>
            <button type="button" className="button" onClick={() => startDrawing('mask')}>Draw a mask</button>
            {online && <button type="button" className="button" onClick={() => setPictureAt(Date.now())}>New picture</button>}
          </>
        )}
      </div>
      <p className="small muted">
        Zones (red, solid) are where nobody may stand; masks (blue, dashed) hide what must not be judged. Select a shape to drag its corners.
        With a keyboard: while drawing, the arrow keys move a cross (Shift: faster) and Enter puts a corner there; a selected shape&apos;s
        corners take Tab and move with the arrow keys.
      </p>

      <ul className="zone-editor-list" aria-label="Zones and masks">
        {shapes.length === 0 && <li className="muted">No zones or masks.</li>}
        {shapes.map((shape, index) => (
          <li key={index} className={selected === index ? 'zone-editor-selected' : undefined}>
            {shape.kind === 'zone' ? (
              <div className="field">
                <label htmlFor={`zone-name-${index}`}>Zone name</label>
                <input
                  id={`zone-name-${index}`} value={shape.name} maxLength={100} onChange={(e) => change(index, { name: e.target.value })}
                  aria-invalid={errors.perShape[index] ? true : undefined} aria-describedby={errors.perShape[index] ? `zone-error-${index}` : undefined}
                />
              </div>
            ) : <span>{maskLabels[index]}</span>}
            <span className="small muted">{shape.polygon.length} corners</span>
            <button type="button" className="button button-small" aria-pressed={selected === index} onClick={() => setSelected(selected === index ? null : index)}>
              {selected === index ? 'Done' : 'Edit corners'}
            </button>
            <button type="button" className="button button-small button-danger" onClick={() => remove(index)} aria-label={`Delete ${maskLabels[index] || 'zone'}`}>Delete</button>
            {errors.perShape[index] && <p id={`zone-error-${index}`} className="field-error">{maskLabels[index] || 'This zone'}: {errors.perShape[index]}</p>}
          </li>
        ))}
      </ul>

      <div className="form-grid">
        <div className="field">
          <label htmlFor="detection-mode">Detection mode</label>
          <select id="detection-mode" value={mode} onChange={(e) => setMode(e.target.value as DetectionMode)} aria-invalid={errors.mode ? true : undefined}>
            {MODES.map((m) => <option key={m.value} value={m.value}>{m.label}</option>)}
          </select>
          {errors.mode && <p className="field-error">{errors.mode}</p>}
        </div>
        <div className="field">
          <label htmlFor="detection-confidence">Confidence threshold: {confidence.toFixed(2)}</label>
          <input id="detection-confidence" type="range" min={0.05} max={0.95} step={0.05} value={confidence} onChange={(e) => setConfidence(Number(e.target.value))} aria-invalid={errors.confidence ? true : undefined} />
          {errors.confidence && <p className="field-error">{errors.confidence}</p>}
        </div>
        <div className="field">
          <label htmlFor="detection-min-area">Least person size (% of the picture)</label>
          <input id="detection-min-area" inputMode="decimal" value={minArea} onChange={(e) => setMinArea(e.target.value)} aria-invalid={areaProblem ?? errors.minPersonArea ? true : undefined} aria-describedby="detection-min-area-error" />
          {(areaProblem ?? errors.minPersonArea) && <p id="detection-min-area-error" className="field-error">The least person size {areaProblem ?? errors.minPersonArea}.</p>}
        </div>
      </div>
      {errors.other && <p className="form-error" role="alert">{errors.other}</p>}
      <div className="form-actions">
        <button type="button" className="button button-primary" onClick={submit} disabled={save.isPending || drawing !== null}>
          {save.isPending ? 'Saving…' : 'Save detection settings'}
        </button>
      </div>
    </div>
  );
}
