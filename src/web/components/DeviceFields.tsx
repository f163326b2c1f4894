import { useConsoleConfig } from '../api/fleet';
import { useSites } from '../api/queries';
import type { DeviceDraft, DraftErrors } from '../lib/device-draft';
import { LazyLocationPicker, type LatLon } from './map';
import { TextField } from './TextField';
import { METRIC_CATALOGUE, UNIT_CHOICES } from '../../shared/metrics';

type Change = (patch: Partial<DeviceDraft>) => void;

export function IdentityFields({ draft, errors, onChange }: { draft: DeviceDraft; errors: DraftErrors; onChange: Change }) {
  const sites = useSites();
  const list = [...(sites.data?.values() ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  return (
    <>
      <div className="field-row">
        <TextField id="device-name" label="Name" value={draft.name} error={errors.name} maxLength={200} required autoComplete="off" onChange={(e) => onChange({ name: e.target.value })} />
        <TextField id="device-serial" label="Serial number" value={draft.serial} error={errors.serial} maxLength={200} required autoComplete="off" onChange={(e) => onChange({ serial: e.target.value })} />
      </div>
      <div className="field">
        <label htmlFor="device-site">Site</label>
        <select id="device-site" value={draft.siteId} aria-invalid={errors.siteId ? true : undefined} aria-describedby={errors.siteId ? 'device-site-error' : 'device-site-hint'} onChange={(e) => onChange({ siteId: e.target.value })}>
          <option value="">No site</option>
          {list.map((site) => <option key={site.id} value={site.id}>{site.name}</option>)}
        </select>
        {errors.siteId ? <span className="field-error" id="device-site-error" role="alert">{errors.siteId}</span>
          : <span className="field-hint" id="device-site-hint">{sites.isPending ? 'Loading sites…' : 'The site sets the time zone of its times and who may see it.'}</span>}
      </div>
    </>
  );
}

/** Latitude and longitude, typed or placed on a map (centred on the site when there is no point yet). */
export function LocationFields({ draft, errors, onChange }: { draft: DeviceDraft; errors: DraftErrors; onChange: Change }) {
  const config = useConsoleConfig();
  const sites = useSites();
  const site = draft.siteId ? sites.data?.get(draft.siteId) : undefined;
  const center: LatLon | null = site && site.lat !== null && site.lon !== null ? { lat: site.lat, lon: site.lon } : null;
  const lat = Number(draft.lat);
  const lon = Number(draft.lon);
  const value = draft.lat.trim() && draft.lon.trim() && Math.abs(lat) <= 90 && Math.abs(lon) <= 180 ? { lat, lon } : null;
  return (
    <>
      <p className="field-hint" id="location-hint">Click the map to place the device, drag the pin to adjust, or type the coordinates (decimal degrees).</p>
      {config.isSuccess && (
        <LazyLocationPicker value={value} center={center} tiles={config.data.mapTiles} label="Map: click to place the device"
          onChange={(point) => onChange({ lat: String(point.lat), lon: String(point.lon) })} />
      )}
      <div className="field-row" style={{ marginTop: '0.75rem' }}>
        <TextField id="device-lat" label="Latitude" inputMode="decimal" value={draft.lat} error={errors.lat} placeholder="39.73920" onChange={(e) => onChange({ lat: e.target.value })} />
        <TextField id="device-lon" label="Longitude" inputMode="decimal" value={draft.lon} error={errors.lon} placeholder="-104.99030" onChange={(e) => onChange({ lon: e.target.value })} />
      </div>
      {value && <button type="button" className="button button-quiet button-small" onClick={() => onChange({ lat: '', lon: '' })}>Clear the location</button>}
    </>
  );
}

export function RadarFields({ draft, errors, onChange }: { draft: DeviceDraft; errors: DraftErrors; onChange: Change }) {
  return (
    <div className="field-row">
      <TextField id="device-limit" label={`Speed limit (${draft.speedUnits === 'kmh' ? 'km/h' : 'mph'})`} inputMode="decimal" value={draft.speedLimit} error={errors.speedLimit}
        placeholder="30" onChange={(e) => onChange({ speedLimit: e.target.value })} />
      <div className="field">
        <label htmlFor="device-units">Units</label>
        <select id="device-units" value={draft.speedUnits} onChange={(e) => onChange({ speedUnits: e.target.value === 'kmh' ? 'kmh' : 'mph' })}>
          <option value="mph">mph</option>
          <option value="kmh">km/h</option>
        </select>
      </div>
    </div>
  );
}

/** A refrigeration unit's safe temperature range (what the HACCP record and the charts judge readings by) and its pressure unit. */
export function RefrigerationFields({ draft, errors, onChange }: { draft: DeviceDraft; errors: DraftErrors; onChange: Change }) {
  const catalogueUnit = METRIC_CATALOGUE.refrigeration.pressure?.unit ?? '';
  return (
    <fieldset className="checklist" style={{ maxHeight: 'none' }}>
      <legend>Refrigeration</legend>
      <p className="field-hint" id="safe-range-hint">
        The safe range is what the compliance record, the equipment figures and the charts judge readings by: time outside it is an excursion.
        Typical: 0 to 5 °C for chilled food, -25 to -15 °C for a freezer.
      </p>
      <div className="field-row">
        <TextField id="device-safe-min" label="Lowest safe temperature (°C)" inputMode="decimal" value={draft.safeMin} error={errors.safeMin}
          placeholder="0" onChange={(e) => onChange({ safeMin: e.target.value })} />
        <TextField id="device-safe-max" label="Highest safe temperature (°C)" inputMode="decimal" value={draft.safeMax} error={errors.safeMax}
          placeholder="5" onChange={(e) => onChange({ safeMax: e.target.value })} />
      </div>
      <div className="field">
        <label htmlFor="device-pressure-unit">Pressure unit</label>
        <select id="device-pressure-unit" value={draft.pressureUnit} aria-invalid={errors.pressureUnit ? true : undefined}
          aria-describedby={errors.pressureUnit ? 'device-pressure-unit-error' : 'device-pressure-unit-hint'} onChange={(e) => onChange({ pressureUnit: e.target.value })}>
          <option value="">{catalogueUnit} (as the unit reports it)</option>
          {(UNIT_CHOICES.pressure ?? []).filter((u) => u !== catalogueUnit).map((u) => <option key={u} value={u}>{u}</option>)}
        </select>
        {errors.pressureUnit ? <span className="field-error" id="device-pressure-unit-error" role="alert">{errors.pressureUnit}</span>
          : <span className="field-hint" id="device-pressure-unit-hint">How charts and alerts label this unit's pressure readings; values are not converted.</span>}
      </div>
    </fieldset>
  );
}
