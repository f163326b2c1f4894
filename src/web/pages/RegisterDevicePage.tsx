import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { ApiError } from '../api/client';
import { useRegisterDevice } from '../api/fleet';
import { useOrganization, useSites } from '../api/queries';
import type { Device, DeviceKind } from '../api/types';
import { DEVICE_KINDS } from '../../shared/devices';
import { DeviceSetup } from '../components/DeviceSetup';
import { IdentityFields, LocationFields, RadarFields } from '../components/DeviceFields';
import { checkDraft, emptyDraft, locationErrors, serverErrors, type DeviceDraft, type DraftErrors } from '../lib/device-draft';
import { formatSpeed, KIND_LABELS } from '../lib/format';
import { useTitle } from '../lib/title';
import { may } from '../lib/access';
import { useSession } from '../components/session';
import './operations.css';

const KIND_HINTS: Record<DeviceKind, string> = {
  speed_radar: 'Speeds and photos; RushRoster devices connect unchanged',
  camera: 'RTSP video: live view and safety checks',
  refrigeration: 'Temperatures and door state',
  sensor: 'Any measurements',
};

type Step = 'kind' | 'details' | 'location' | 'radar' | 'review';
const STEP_LABELS: Record<Step, string> = { kind: 'Kind', details: 'Name and site', location: 'Location', radar: 'Speed limit', review: 'Review' };
/** The step that shows a field, to go back to when the server complains about it. */
const FIELD_STEP: Partial<Record<keyof DeviceDraft, Step>> = { name: 'details', serial: 'details', siteId: 'details', lat: 'location', lon: 'location', speedLimit: 'radar', speedUnits: 'radar' };

/**
 * `/devices/new`: registers a device in steps (kind; name, serial and site; location on a map or typed;
 * speed limit for radars; review), then shows its key once with the device's configuration.
 */
export function RegisterDevicePage() {
  useTitle('Register a device');
  const organization = useOrganization();
  const sites = useSites();
  const register = useRegisterDevice();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const { me } = useSession();
  // Cameras open a site's video: only roles that may configure them add one (the server says so too).
  const mayAddCamera = may(me, 'camera.write');
  const [kind, setKind] = useState<DeviceKind>(params.get('kind') === 'camera' && mayAddCamera ? 'camera' : 'speed_radar');
  const [draft, setDraft] = useState<DeviceDraft | null>(null);
  const [step, setStep] = useState<Step>('kind');
  const [errors, setErrors] = useState<DraftErrors>({});
  const [created, setCreated] = useState<{ device: Device; apiKey: string } | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const form = draft ?? emptyDraft(organization.data?.units ?? 'mph');

  const steps: Step[] = kind === 'speed_radar' ? ['kind', 'details', 'location', 'radar', 'review'] : ['kind', 'details', 'location', 'review'];
  const index = steps.indexOf(step);

  // Each step (and the result) starts with focus on its heading, so keyboard and screen reader users follow.
  useEffect(() => heading.current?.focus(), [step, created]);

  const change = (patch: Partial<DeviceDraft>) => {
    setDraft({ ...form, ...patch });
    setErrors((current) => Object.fromEntries(Object.entries(current).filter(([field]) => !(field in patch))));
  };

  const stepErrors = (target: Step): DraftErrors => {
    const all = checkDraft(form, kind).errors;
    if (target === 'location') return locationErrors(form);
    return Object.fromEntries(Object.entries(all).filter(([field]) => FIELD_STEP[field as keyof DeviceDraft] === target));
  };

  const next = (e: FormEvent) => {
    e.preventDefault();
    const problems = stepErrors(step);
    setErrors(problems);
    if (Object.keys(problems).length > 0) return;
    if (step !== 'review') {
      setStep(steps[index + 1]!);
      return;
    }
    const { input, errors: all } = checkDraft(form, kind);
    if (Object.keys(all).length > 0) {
      setErrors(all);
      setStep(FIELD_STEP[Object.keys(all)[0] as keyof DeviceDraft] ?? 'details');
      return;
    }
    register.mutate({ kind, ...input }, {
      onSuccess: (result) => {
        // A camera is decoded by Vigil and needs no key: its page asks for the RTSP address and credentials next.
        if (result.device.kind === 'camera') void navigate(`/cameras/${result.device.id}`, { state: { registered: true } });
        else setCreated({ device: result.device, apiKey: result.apiKey });
      },
      onError: (error) => {
        if (!(error instanceof ApiError)) return;
        const fields = serverErrors(error.details);
        if (Object.keys(fields).length === 0) return;
        setErrors(fields);
        setStep(FIELD_STEP[Object.keys(fields)[0] as keyof DeviceDraft] ?? 'details');
      },
    });
  };

  if (created) {
    return (
      <div className="page wizard">
        <nav className="breadcrumbs" aria-label="Breadcrumbs"><Link to="/devices">Devices</Link></nav>
        <h1 ref={heading} tabIndex={-1}>{created.device.name} is registered</h1>
        <p>It shows as offline until it first reports. Give it this key:</p>
        <DeviceSetup apiKey={created.apiKey} kind={created.device.kind} serial={created.device.serial} />
        <div className="wizard-actions">
          <Link className="button button-primary" to={`/devices/${created.device.id}`}>Go to the device</Link>
          <button type="button" className="button" onClick={() => { setCreated(null); setDraft(null); setStep('kind'); register.reset(); }}>Register another</button>
        </div>
      </div>
    );
  }

  const units = form.speedUnits;
  return (
    <div className="page wizard">
      <nav className="breadcrumbs" aria-label="Breadcrumbs"><Link to="/devices">Devices</Link></nav>
      <h1>Register a device</h1>
      <ol className="steps" aria-label="Steps">
        {steps.map((s, i) => (
          <li key={s} aria-current={s === step ? 'step' : undefined} className={i < index ? 'step-done' : undefined}>
            {STEP_LABELS[s]}{i < index && <span className="visually-hidden"> (done)</span>}
          </li>
        ))}
      </ol>
      <form className="panel" onSubmit={next} noValidate aria-labelledby="step-heading">
        <h2 id="step-heading" ref={heading} tabIndex={-1}>Step {index + 1} of {steps.length}: {STEP_LABELS[step]}</h2>
        {step === 'kind' && (
          <fieldset>
            <legend className="visually-hidden">What kind of device?</legend>
            <div className="choice-grid">
              {DEVICE_KINDS.map((k) => (
                <label key={k} className="choice">
                  <input type="radio" name="kind" value={k} checked={kind === k} onChange={() => setKind(k)} disabled={k === 'camera' && !mayAddCamera} />
                  <span><strong>{KIND_LABELS[k]}</strong><span>{k === 'camera' && !mayAddCamera ? 'Administrators add cameras' : KIND_HINTS[k]}</span></span>
                </label>
              ))}
            </div>
          </fieldset>
        )}
        {step === 'details' && <IdentityFields draft={form} errors={errors} onChange={change} />}
        {step === 'location' && <LocationFields draft={form} errors={errors} onChange={change} />}
        {step === 'radar' && <RadarFields draft={form} errors={errors} onChange={change} />}
        {step === 'review' && (
          <dl className="details">
            <div><dt>Kind</dt><dd>{KIND_LABELS[kind]}</dd></div>
            <div><dt>Name</dt><dd>{form.name}</dd></div>
            <div><dt>Serial number</dt><dd className="mono">{form.serial}</dd></div>
            <div><dt>Site</dt><dd>{form.siteId ? sites.data?.get(form.siteId)?.name ?? 'Unknown site' : 'No site'}</dd></div>
            <div><dt>Location</dt><dd>{form.lat && form.lon ? `${form.lat}, ${form.lon}` : 'Not set'}</dd></div>
            {kind === 'speed_radar' && <div><dt>Speed limit</dt><dd>{form.speedLimit ? formatSpeed(Number(form.speedLimit), units) : `Not set (units ${units === 'kmh' ? 'km/h' : 'mph'})`}</dd></div>}
          </dl>
        )}
        {register.isError && !(register.error instanceof ApiError && register.error.details.length > 0) && (
          <p className="form-error" role="alert">{register.error.message}</p>
        )}
        <div className="wizard-actions">
          {index > 0 ? <button type="button" className="button" onClick={() => { setErrors({}); setStep(steps[index - 1]!); }}>Back</button> : <Link className="button" to="/devices">Cancel</Link>}
          <button type="submit" className="button button-primary" disabled={register.isPending}>
            {step === 'review' ? (register.isPending ? 'Registering…' : 'Register the device') : 'Next'}
          </button>
        </div>
      </form>
    </div>
  );
}
