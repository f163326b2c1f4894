import { useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';
import { accountKeys, useApiTokens, type ApiToken } from '../../api/account';
import { ConfirmDialog } from '../../components/Dialog';
import { Notice, useNotice } from '../../components/Notice';
import { Pager, useCursorPager } from '../../components/Pager';
import { SecretReveal } from '../../components/SecretReveal';
import { useSession } from '../../components/session';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { TextField } from '../../components/TextField';
import { formErrors, MIN_PASSWORD, passwordProblem, without } from '../../lib/forms';
import { formatTime, organizationZone } from '../../lib/format';
import { useTitle } from '../../lib/title';

/** `/account`: the signed-in user's password and personal API tokens. */
export function AccountPage() {
  useTitle('Your account');
  const { me } = useSession();
  const notice = useNotice();
  return (
    <div className="page page-narrow">
      <header className="page-header">
        <div>
          <h1>Your account</h1>
          <p className="muted">{me.user.name} · {me.user.email}</p>
        </div>
      </header>
      <Notice message={notice.message} />
      <ChangePassword onDone={notice.show} />
      <ApiTokens onDone={notice.show} />
    </div>
  );
}

/** "2 API tokens", "1 API token". */
const tokenCount = (n: number) => `${n} API token${n === 1 ? '' : 's'}`;

function ChangePassword({ onDone }: { onDone: (message: string) => void }) {
  const { me } = useSession();
  const queryClient = useQueryClient();
  const [values, setValues] = useState({ currentPassword: '', newPassword: '', confirmation: '' });
  const [keepApiTokens, setKeepApiTokens] = useState(false);
  const [local, setLocal] = useState<Record<string, string>>({});
  const change = useMutation({
    mutationFn: () => api<{ otherSessionsRevoked: number; apiTokensRevoked: number }>('/auth/change-password', {
      method: 'POST',
      body: { currentPassword: values.currentPassword, newPassword: values.newPassword, keepApiTokens },
    }),
    onSuccess: async ({ apiTokensRevoked }) => {
      setValues({ currentPassword: '', newPassword: '', confirmation: '' });
      setKeepApiTokens(false);
      onDone(`Password changed. Your other sessions are signed out${apiTokensRevoked > 0 ? ` and ${tokenCount(apiTokensRevoked)} revoked` : ''}.`);
      await queryClient.invalidateQueries({ queryKey: accountKeys.tokens });
    },
  });
  const set = (field: keyof typeof values) => (e: { target: { value: string } }) => {
    setValues((v) => ({ ...v, [field]: e.target.value }));
    setLocal((errors) => without(errors, field));
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const problems: Record<string, string> = {};
    if (!values.currentPassword) problems.currentPassword = 'Enter your current password.';
    const problem = passwordProblem(values.newPassword);
    if (problem) problems.newPassword = problem;
    else if (values.confirmation !== values.newPassword) problems.confirmation = 'The two passwords differ.';
    setLocal(problems);
    if (Object.keys(problems).length === 0) change.mutate();
  };
  const errors = formErrors(change.error, ['currentPassword', 'newPassword'], local);
  return (
    <section className="section card-section" aria-labelledby="password-title">
      <h2 id="password-title">Change password</h2>
      <form onSubmit={submit} noValidate>
        {/* For password managers: the account this password belongs to. */}
        <input type="email" autoComplete="username" value={me.user.email} readOnly hidden />
        <TextField id="current-password" label="Current password" type="password" autoComplete="current-password" maxLength={256} value={values.currentPassword} onChange={set('currentPassword')} error={errors.field('currentPassword')} />
        <div className="field-row">
          <TextField id="new-password" label="New password" type="password" autoComplete="new-password" minLength={MIN_PASSWORD} maxLength={256} value={values.newPassword} onChange={set('newPassword')} error={errors.field('newPassword')} hint={`At least ${MIN_PASSWORD} characters.`} />
          <TextField id="confirm-password" label="Repeat the new password" type="password" autoComplete="new-password" maxLength={256} value={values.confirmation} onChange={set('confirmation')} error={errors.field('confirmation')} />
        </div>
        <div className="field field-checkbox">
          <input id="keep-api-tokens" type="checkbox" aria-describedby="keep-api-tokens-hint" checked={keepApiTokens} onChange={(e) => setKeepApiTokens(e.target.checked)} />
          <label htmlFor="keep-api-tokens">Keep my API tokens working</label>
        </div>
        <p className="field-hint" id="keep-api-tokens-hint">Otherwise they are revoked, as they should be if someone else may know the old password.</p>
        {errors.other && <p className="form-error" role="alert">{errors.other}</p>}
        <button type="submit" className="button button-primary" disabled={change.isPending}>{change.isPending ? 'Changing…' : 'Change password'}</button>
      </form>
    </section>
  );
}

const EXPIRY_CHOICES = [
  { label: 'Never', days: undefined },
  { label: '30 days', days: 30 },
  { label: '90 days', days: 90 },
  { label: '1 year', days: 365 },
] as const;

function ApiTokens({ onDone }: { onDone: (message: string) => void }) {
  const { me } = useSession();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [expiry, setExpiry] = useState('0');
  const [password, setPassword] = useState('');
  const [local, setLocal] = useState<Record<string, string>>({});
  const [revoking, setRevoking] = useState<ApiToken | null>(null);
  const create = useMutation({
    mutationFn: () => api<ApiToken & { token: string }>('/auth/tokens', {
      method: 'POST',
      body: {
        name: name.trim(),
        currentPassword: password,
        ...(EXPIRY_CHOICES[Number(expiry)]?.days && { expiresInDays: EXPIRY_CHOICES[Number(expiry)]!.days }),
      },
    }),
    onSuccess: async () => {
      setName('');
      setPassword('');
      await queryClient.invalidateQueries({ queryKey: accountKeys.tokens });
    },
  });
  const revoke = useMutation({
    mutationFn: (token: ApiToken) => api<void>(`/auth/tokens/${token.id}`, { method: 'DELETE' }),
    onSuccess: async (_none, token) => {
      await queryClient.invalidateQueries({ queryKey: accountKeys.tokens });
      setRevoking(null);
      onDone(`Token “${token.name}” revoked.`);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const problems: Record<string, string> = {
      ...(!name.trim() && { name: 'Name the token after what will use it.' }),
      ...(!password && { currentPassword: 'Enter your password to create a token.' }),
    };
    setLocal(problems);
    if (Object.keys(problems).length === 0) create.mutate();
  };
  const errors = formErrors(create.error, ['name', 'expiresInDays', 'currentPassword'], local);
  return (
    <section className="section card-section" aria-labelledby="tokens-title">
      <h2 id="tokens-title">Personal API tokens</h2>
      <p className="muted">
        For scripts and integrations: send <code>Authorization: Bearer &lt;token&gt;</code>. A token acts as you, with your roles, until it expires or is revoked.
      </p>
      <form className="inline-form" onSubmit={submit} noValidate>
        <input type="email" autoComplete="username" value={me.user.email} readOnly hidden />
        <TextField id="token-name" label="Token name" placeholder="e.g. Nightly report script" maxLength={100} value={name} onChange={(e) => setName(e.target.value)} error={errors.field('name')} />
        <div className="field">
          <label htmlFor="token-expiry">Expires</label>
          <select id="token-expiry" value={expiry} onChange={(e) => setExpiry(e.target.value)}>
            {EXPIRY_CHOICES.map((choice, index) => <option key={choice.label} value={index}>{choice.label}</option>)}
          </select>
        </div>
        <TextField
          id="token-password" label="Your password" type="password" autoComplete="current-password" maxLength={256}
          value={password} onChange={(e) => { setPassword(e.target.value); setLocal((l) => without(l, 'currentPassword')); }} error={errors.field('currentPassword')}
        />
        <button type="submit" className="button button-primary" disabled={create.isPending}>{create.isPending ? 'Creating…' : 'Create token'}</button>
      </form>
      {errors.other && <p className="form-error" role="alert">{errors.other}</p>}
      {create.data && (
        <SecretReveal label="New API token" value={create.data.token}>
          <p>Token “{create.data.name}” created.</p>
        </SecretReveal>
      )}
      <TokenTable onRevoke={setRevoking} />
      {revoking && (
        <ConfirmDialog
          title={`Revoke “${revoking.name}”?`}
          confirmLabel="Revoke token"
          busy={revoke.isPending}
          error={revoke.error}
          onConfirm={() => revoke.mutate(revoking)}
          onClose={() => { setRevoking(null); revoke.reset(); }}
        >
          <p>Anything using this token stops working at once. This cannot be undone.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

function TokenTable({ onRevoke }: { onRevoke: (token: ApiToken) => void }) {
  const pager = useCursorPager();
  const tokens = useApiTokens(pager.cursor);
  if (tokens.isPending) return <LoadingState label="Loading tokens…" />;
  if (tokens.isError) return <ErrorState title="Tokens could not be loaded" error={tokens.error} onRetry={() => void tokens.refetch()} />;
  if (tokens.data.items.length === 0) return <EmptyState title="No API tokens yet"><p>Create one above when a script needs the API.</p></EmptyState>;
  // "Now" is when the list was fetched: the states shown match the answer they come from.
  const now = tokens.dataUpdatedAt;
  return (
    <>
      <div className="table-wrap" role="region" aria-label="API tokens" tabIndex={0}>
        <table className="table" aria-busy={tokens.isPlaceholderData || undefined}>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col" className="hide-narrow">Starts with</th>
              <th scope="col" className="hide-narrow">Last used</th>
              <th scope="col">State</th>
              <th scope="col"><span className="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {tokens.data.items.map((token) => {
              const expired = token.expiresAt !== null && Date.parse(token.expiresAt) <= now;
              const state = token.revokedAt ? 'Revoked' : expired ? 'Expired' : token.expiresAt ? `Until ${formatTime(token.expiresAt, organizationZone())}` : 'Active';
              return (
                <tr key={token.id}>
                  <td>{token.name}</td>
                  <td className="hide-narrow mono">{token.prefix}…</td>
                  <td className="hide-narrow">{token.lastUsedAt ? formatTime(token.lastUsedAt, organizationZone()) : <span className="muted">Never</span>}</td>
                  <td>{state}</td>
                  <td>
                    {!token.revokedAt && !expired && (
                      <div className="row-actions">
                        <button type="button" className="button button-small button-danger" onClick={() => onRevoke(token)} aria-label={`Revoke ${token.name}`}>Revoke</button>
                      </div>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <Pager label="Token pages" page={pager.page} nextCursor={tokens.data.nextCursor} onNext={pager.next} onPrevious={pager.previous} busy={tokens.isPlaceholderData} />
    </>
  );
}
