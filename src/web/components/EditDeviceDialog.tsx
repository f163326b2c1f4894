import { useState, type FormEvent } from 'react';
import { ApiError } from '../api/client';
import { useUpdateDevice } from '../api/fleet';
import { useOrganization } from '../api/queries';
import type { Device } from '../api/types';
import { checkDraft, draftOf, refrigerationSettings, serverErrors, type DeviceDraft, type DraftErrors } from '../lib/device-draft';
import { IdentityFields, LocationFields, RadarFields, RefrigerationFields } from './DeviceFields';
import { Dialog } from './Dialog';

/** Changes a device's name, serial, site, location, (radars) speed limit and (refrigeration) safe range; the server's field errors show inline. */
export function EditDeviceDialog({ device, onClose, onSaved }: { device: Device; onClose: () => void; onSaved: () => void }) {
  const organization = useOrganization();
  const update = useUpdateDevice(device.id);
  const [draft, setDraft] = useState<DeviceDraft>(() => draftOf(device, organization.data?.units ?? 'mph'));
  const [errors, setErrors] = useState<DraftErrors>({});
  const change = (patch: Partial<DeviceDraft>) => setDraft((current) => ({ ...current, ...patch }));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const checked = checkDraft(draft, device.kind);
    const fridge = device.kind === 'refrigeration' ? refrigerationSettings(draft, device.settings) : null;
    const found = { ...checked.errors, ...fridge?.errors };
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    update.mutate(fridge ? { ...checked.input, settings: fridge.settings } : checked.input, {
      onSuccess: () => { onSaved(); onClose(); },
      onError: (error) => { if (error instanceof ApiError) setErrors(serverErrors(error.details)); },
    });
  };

  return (
    <Dialog title={`Edit ${device.name}`} wide onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <IdentityFields draft={draft} errors={errors} onChange={change} />
        {device.kind === 'speed_radar' && <RadarFields draft={draft} errors={errors} onChange={change} />}
        {device.kind === 'refrigeration' && <RefrigerationFields draft={draft} errors={errors} onChange={change} />}
        <fieldset className="checklist" style={{ maxHeight: 'none' }}>
          <legend>Location</legend>
          <LocationFields draft={draft} errors={errors} onChange={change} />
        </fieldset>
        {update.isError && !(update.error instanceof ApiError && update.error.details.length > 0) && <p className="form-error" role="alert">{update.error.message}</p>}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="button button-primary" disabled={update.isPending}>{update.isPending ? 'Saving…' : 'Save changes'}</button>
        </div>
      </form>
    </Dialog>
  );
}
