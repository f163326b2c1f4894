import { useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';
import { accountKeys, useRegistrationCodes, type RegistrationCode } from '../../api/account';
import { useSites } from '../../api/queries';
import type { Role } from '../../api/types';
import { ConfirmDialog } from '../../components/Dialog';
import { Notice, useNotice } from '../../components/Notice';
import { Pager, useCursorPager } from '../../components/Pager';
import { SecretReveal } from '../../components/SecretReveal';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { TextField } from '../../components/TextField';
import { formErrors } from '../../lib/forms';
import { browserZone, formatTime, humanize, organizationZone } from '../../lib/format';
import { useTitle } from '../../lib/title';
import { SiteChecklist, siteSummary } from './MembersPage';

const CODE_ROLES: Role[] = ['viewer', 'operator', 'manager', 'admin'];

/** `/admin/registration-codes`: codes that let people sign themselves up with a given role. */
export function RegistrationCodesPage() {
  useTitle('Registration codes');
  const notice = useNotice();
  const [revoking, setRevoking] = useState<RegistrationCode | null>(null);
  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Registration codes</h1>
          <p className="muted">Anyone with a code can create an account in this organization, with the code’s role and sites, until it is used up, expires or is revoked.</p>
        </div>
      </header>
      <Notice message={notice.message} />
      <CreateCode />
      <section className="section" aria-labelledby="codes-title">
        <h2 id="codes-title">Codes</h2>
        <CodeTable onRevoke={setRevoking} />
      </section>
      {revoking && <RevokeDialog code={revoking} onClose={() => setRevoking(null)} onRevoked={() => { notice.show(`Code ${revoking.prefix}… revoked.`); setRevoking(null); }} />}
    </div>
  );
}

/** `datetime-local` gives a wall-clock time in the browser's zone; the API wants an instant. */
function localToIso(value: string): string | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function CreateCode() {
  const queryClient = useQueryClient();
  const [label, setLabel] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [maxUses, setMaxUses] = useState('10');
  const [expires, setExpires] = useState('');
  const [siteIds, setSiteIds] = useState<string[] | null>(null);
  const [local, setLocal] = useState<Record<string, string>>({});
  const create = useMutation({
    mutationFn: () => api<RegistrationCode & { code: string }>('/registration-codes', {
      method: 'POST',
      body: { label: label.trim() || undefined, role, maxUses: Number(maxUses), expiresAt: localToIso(expires), ...(siteIds !== null && { siteIds }) },
    }),
    onSuccess: async () => {
      setLabel('');
      await queryClient.invalidateQueries({ queryKey: accountKeys.registrationCodes });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const problems: Record<string, string> = {};
    const uses = Number(maxUses);
    if (!Number.isInteger(uses) || uses < 1 || uses > 100_000) problems.maxUses = 'Enter a whole number from 1 to 100,000.';
    if (expires && (!localToIso(expires) || Date.parse(localToIso(expires)!) <= Date.now())) problems.expiresAt = 'Choose a time in the future, or leave it empty.';
    setLocal(problems);
    if (Object.keys(problems).length === 0) create.mutate();
  };
  const errors = formErrors(create.error, ['label', 'role', 'maxUses', 'expiresAt', 'siteIds'], local);
  const link = create.data ? `${window.location.origin}/register?code=${encodeURIComponent(create.data.code)}` : '';
  return (
    <section className="section card-section" aria-labelledby="new-code-title">
      <h2 id="new-code-title">New code</h2>
      <form onSubmit={submit} noValidate>
        <div className="field-row">
          <TextField id="code-label" label="Label" placeholder="Optional, e.g. Spring volunteers" maxLength={200} value={label} onChange={(e) => setLabel(e.target.value)} error={errors.field('label')} />
          <div className="field">
            <label htmlFor="code-role">Role</label>
            <select id="code-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
              {CODE_ROLES.map((r) => <option key={r} value={r}>{humanize(r)}</option>)}
            </select>
          </div>
        </div>
        <div className="field-row">
          <TextField id="code-uses" label="Uses" type="number" inputMode="numeric" min={1} max={100000} value={maxUses} onChange={(e) => setMaxUses(e.target.value)} error={errors.field('maxUses')} hint="How many accounts it can create." />
          <TextField id="code-expires" label="Expires" type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} error={errors.field('expiresAt')} hint={`Empty: never. Your time zone (${browserZone}).`} />
        </div>
        <SiteChecklist value={siteIds} onChange={setSiteIds} idPrefix="code-sites" />
        {errors.other && <p className="form-error" role="alert">{errors.other}</p>}
        <button type="submit" className="button button-primary" disabled={create.isPending}>{create.isPending ? 'Creating…' : 'Create code'}</button>
      </form>
      {create.data && (
        <SecretReveal label="New registration code" value={create.data.code}>
          <p>Code created for {humanize(create.data.role)}s, {create.data.maxUses} {create.data.maxUses === 1 ? 'use' : 'uses'}. People enter it at “Create an account” on the sign-in page, or open <a href={link} className="break-anywhere">{link}</a>.</p>
        </SecretReveal>
      )}
    </section>
  );
}

function codeState(code: RegistrationCode, now: number): string {
  if (code.revokedAt) return 'Revoked';
  if (code.expiresAt && Date.parse(code.expiresAt) <= now) return 'Expired';
  if (code.uses >= code.maxUses) return 'Used up';
  return 'Active';
}

function CodeTable({ onRevoke }: { onRevoke: (code: RegistrationCode) => void }) {
  const pager = useCursorPager();
  const codes = useRegistrationCodes(pager.cursor);
  const sites = useSites();
  if (codes.isPending) return <LoadingState label="Loading codes…" />;
  if (codes.isError) return <ErrorState title="Codes could not be loaded" error={codes.error} onRetry={() => void codes.refetch()} />;
  if (codes.data.items.length === 0) return <EmptyState title="No registration codes yet"><p>Create one above to let a group sign themselves up.</p></EmptyState>;
  // "Now" is when the list was fetched: the states shown match the answer they come from.
  const now = codes.dataUpdatedAt;
  return (
    <>
      <div className="table-wrap" role="region" aria-label="Registration codes" tabIndex={0}>
        <table className="table" aria-busy={codes.isPlaceholderData || undefined}>
          <thead>
            <tr>
              <th scope="col">Code</th>
              <th scope="col">Role</th>
              <th scope="col" className="num">Used</th>
              <th scope="col" className="hide-narrow">Sites</th>
              <th scope="col" className="hide-narrow">Expires</th>
              <th scope="col">State</th>
              <th scope="col"><span className="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {codes.data.items.map((code) => {
              const state = codeState(code, now);
              return (
                <tr key={code.id}>
                  <td><span className="mono">{code.prefix}…</span>{code.label && <div className="small muted">{code.label}</div>}</td>
                  <td>{humanize(code.role)}</td>
                  <td className="num">{code.uses} / {code.maxUses}</td>
                  <td className="hide-narrow">{siteSummary(code.siteIds, sites.data)}</td>
                  <td className="hide-narrow">{code.expiresAt ? formatTime(code.expiresAt, organizationZone()) : <span className="muted">Never</span>}</td>
                  <td>{state}</td>
                  <td>
                    {state === 'Active' && (
                      <div className="row-actions">
                        <button type="button" className="button button-small button-danger" onClick={() => onRevoke(code)} aria-label={`Revoke code ${code.prefix}`}>Revoke</button>
                      </div>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <Pager label="Code pages" page={pager.page} nextCursor={codes.data.nextCursor} onNext={pager.next} onPrevious={pager.previous} busy={codes.isPlaceholderData} />
    </>
  );
}

function RevokeDialog({ code, onClose, onRevoked }: { code: RegistrationCode; onClose: () => void; onRevoked: () => void }) {
  const queryClient = useQueryClient();
  const revoke = useMutation({
    mutationFn: () => api<void>(`/registration-codes/${code.id}`, { method: 'DELETE' }),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: accountKeys.registrationCodes });
      onRevoked();
    },
  });
  return (
    <ConfirmDialog title={`Revoke code ${code.prefix}…?`} confirmLabel="Revoke code" busy={revoke.isPending} error={revoke.error} onConfirm={() => revoke.mutate()} onClose={onClose}>
      <p>Nobody can sign up with it any more. Accounts already created with it stay.</p>
    </ConfirmDialog>
  );
}
