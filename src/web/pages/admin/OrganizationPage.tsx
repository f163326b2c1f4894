import { useMemo, useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';
import { organizationSettingsKey, useOrganizationSettings, type OrganizationSettings } from '../../api/platform';
import { keys } from '../../api/queries';
import { Notice, useNotice } from '../../components/Notice';
import { ErrorState, LoadingState } from '../../components/states';
import { TextField } from '../../components/TextField';
import { formErrors } from '../../lib/forms';
import { canonicalLocale, formatDate, formatNumber as formatIn } from '../../../shared/format';
import { formatNumber } from '../../lib/format';
import { useTitle } from '../../lib/title';
import { timeZones } from './SitesPage';

type Editable = Pick<OrganizationSettings, 'name' | 'units' | 'timezone' | 'locale' | 'retentionDays' | 'allowedEmailDomains' | 'publicSharing' | 'publicPhotos'>;

const COMMON_LOCALES = ['en-US', 'en-GB', 'en-CA', 'en-AU', 'en-IN', 'fr-FR', 'fr-CA', 'de-DE', 'es-ES', 'es-MX', 'it-IT', 'nl-NL', 'pt-BR', 'pt-PT', 'ja-JP'];
const PREVIEW_DATE = '2026-11-23T12:00:00Z';

/** `/admin/organization`: the organization's settings (changes are audit-logged by the server). */
export function OrganizationPage() {
  useTitle('Organization settings');
  const organization = useOrganizationSettings();
  const notice = useNotice();
  return (
    <div className="page page-narrow">
      <header className="page-header">
        <div>
          <h1>Organization settings</h1>
          <p className="muted">Apply to every member and device of the organization. Changes are recorded in the audit log.</p>
        </div>
      </header>
      <Notice message={notice.message} />
      {organization.isPending && <LoadingState label="Loading settings…" />}
      {organization.isError && <ErrorState title="Settings could not be loaded" error={organization.error} onRetry={() => void organization.refetch()} />}
      {organization.data && <SettingsForm key={organization.data.id} organization={organization.data} onSaved={() => notice.show('Settings saved.')} />}
    </div>
  );
}

function SettingsForm({ organization, onSaved }: { organization: OrganizationSettings; onSaved: () => void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(organization.name);
  const [units, setUnits] = useState(organization.units);
  const [timezone, setTimezone] = useState(organization.timezone);
  const [locale, setLocale] = useState(organization.locale);
  const [retention, setRetention] = useState(organization.retentionDays?.toString() ?? '');
  const [domains, setDomains] = useState(organization.allowedEmailDomains.join(', '));
  const [publicSharing, setPublicSharing] = useState(organization.publicSharing);
  const [publicPhotos, setPublicPhotos] = useState(organization.publicPhotos);
  const [local, setLocal] = useState<Record<string, string>>({});
  const zones = useMemo(() => timeZones(timezone), [timezone]);

  const save = useMutation({
    mutationFn: (patch: Partial<Editable>) => api<OrganizationSettings>('/organization', { method: 'PATCH', body: patch }),
    onSuccess: async (saved) => {
      queryClient.setQueryData(organizationSettingsKey, saved);
      // The name appears in the organization switcher; the locale and zone come with the session.
      await queryClient.invalidateQueries({ queryKey: keys.me });
      onSaved();
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const problems: Record<string, string> = {};
    if (!name.trim()) problems.name = 'Enter a name.';
    const days = retention.trim() === '' ? null : Number(retention);
    if (days !== null && (!Number.isInteger(days) || days < 1 || days > 36_500)) problems.retentionDays = 'Enter whole days from 1 to 36,500, or leave it empty to keep everything.';
    const tag = canonicalLocale(locale.trim());
    if (!tag) problems.locale = 'Enter a language tag such as en-US, en-GB or de-DE.';
    const domainList = [...new Set(domains.split(/[\s,;]+/).map((d) => d.trim().toLowerCase().replace(/^@/, '')).filter(Boolean))];
    setLocal(problems);
    if (Object.keys(problems).length > 0) return;
    const next: Editable = { name: name.trim(), units, timezone, locale: tag!, retentionDays: days, allowedEmailDomains: domainList, publicSharing, publicPhotos };
    // Only what changed: the audit log then says exactly what was changed.
    const patch = Object.fromEntries(Object.entries(next).filter(([key, value]) => JSON.stringify(value) !== JSON.stringify(organization[key as keyof Editable]))) as Partial<Editable>;
    if (Object.keys(patch).length === 0) return onSaved();
    save.mutate(patch);
  };

  const errors = formErrors(save.error, ['name', 'units', 'timezone', 'locale', 'retentionDays', 'allowedEmailDomains', 'publicSharing', 'publicPhotos'], local);
  const limit = (value: number | null) => (value === null ? 'No limit' : formatNumber(value));
  const previewTag = canonicalLocale(locale.trim());
  return (
    <form className="card-section" onSubmit={submit} noValidate>
      <TextField id="org-name" label="Name" required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} error={errors.field('name')} />
      <fieldset className="radio-group">
        <legend>Speed units</legend>
        <label><input type="radio" name="units" value="mph" checked={units === 'mph'} onChange={() => setUnits('mph')} /> Miles per hour (mph)</label>
        <label><input type="radio" name="units" value="kmh" checked={units === 'kmh'} onChange={() => setUnits('kmh')} /> Kilometres per hour (km/h)</label>
        <span className="field-hint">For devices that do not set their own units.</span>
      </fieldset>
      <div className="field">
        <label htmlFor="org-timezone">Time zone</label>
        <select id="org-timezone" value={timezone} onChange={(e) => setTimezone(e.target.value)} aria-describedby="org-timezone-hint">
          {zones.map((z) => <option key={z} value={z}>{z.replace(/_/g, ' ')}</option>)}
        </select>
        <span className="field-hint" id="org-timezone-hint">The default for new sites.</span>
        {errors.field('timezone') && <span className="field-error" role="alert">{errors.field('timezone')}</span>}
      </div>
      <TextField
        id="org-locale" label="Dates and numbers" list="org-locales" value={locale} onChange={(e) => setLocale(e.target.value)} error={errors.field('locale')}
        hint={`A language tag${previewTag ? `: written as ${formatDate(PREVIEW_DATE, 'UTC', previewTag, 'numeric')} and ${formatIn(1234567.8, previewTag, 1)}` : ''}. Used by the console, public pages, reports and CSV text; times are shown in each site's zone.`}
      />
      <datalist id="org-locales">{COMMON_LOCALES.map((l) => <option key={l} value={l} />)}</datalist>
      <TextField
        id="org-retention" label="Keep raw events and telemetry for (days)" type="number" inputMode="numeric" min={1} max={36500} placeholder="Forever"
        value={retention} onChange={(e) => setRetention(e.target.value)} error={errors.field('retentionDays')}
        hint="Empty: kept forever. Older raw data is deleted nightly; hourly summaries stay."
      />
      <TextField
        id="org-domains" label="Allowed email domains" placeholder="e.g. city.example, county.example" value={domains}
        onChange={(e) => setDomains(e.target.value)} error={errors.field('allowedEmailDomains')}
        hint="Empty: anyone with an invitation or code may join. Otherwise only these email domains."
      />
      <div className="field field-checkbox">
        <input id="org-public" type="checkbox" checked={publicSharing} onChange={(e) => setPublicSharing(e.target.checked)} aria-describedby="org-public-hint" />
        <label htmlFor="org-public">Public sharing</label>
      </div>
      <p className="field-hint" id="org-public-hint">Shows the speed radars your managers mark as shared on the public community pages (<a href="/public">/public</a>): speed figures, recent speeders and a location moved by about 100 m. Never emails, keys or exact locations.</p>
      <div className="field field-checkbox">
        <input id="org-public-photos" type="checkbox" checked={publicPhotos} onChange={(e) => setPublicPhotos(e.target.checked)} aria-describedby="org-public-photos-hint" />
        <label htmlFor="org-public-photos">Photos on public pages</label>
      </div>
      <p className="field-hint" id="org-public-photos-hint">Also shows a small photo of each recent speeder of a shared device, when the radar took one.</p>
      <h2 className="subheading">Plan</h2>
      <dl className="facts">
        <div><dt>Address name (slug)</dt><dd className="mono">{organization.slug}</dd></div>
        <div><dt>Members at most</dt><dd>{limit(organization.maxUsers)}</dd></div>
        <div><dt>Devices at most</dt><dd>{limit(organization.maxDevices)}</dd></div>
      </dl>
      <p className="field-hint">Plan limits are set by the platform administrator.</p>
      {errors.other && <p className="form-error" role="alert">{errors.other}</p>}
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={save.isPending}>{save.isPending ? 'Saving…' : 'Save settings'}</button>
      </div>
    </form>
  );
}
