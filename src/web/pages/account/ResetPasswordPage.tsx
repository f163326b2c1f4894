import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api } from '../../api/client';
import { AuthLayout } from '../../components/AuthLayout';
import { TextField } from '../../components/TextField';
import { formErrors, MIN_PASSWORD, passwordProblem } from '../../lib/forms';
import { useTitle } from '../../lib/title';

/** `/reset-password?token=`: the page a password reset email links to. */
export function ResetPasswordPage() {
  useTitle('Choose a new password');
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const [password, setPassword] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [local, setLocal] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<{ apiTokensRevoked: number } | null>(null);

  if (!token) {
    return (
      <AuthLayout title="This reset link is incomplete">
        <p>Open the link from the email exactly as it was sent, or ask for a new one.</p>
        <p><Link to="/forgot-password" className="button button-primary">Ask for a new link</Link></p>
      </AuthLayout>
    );
  }
  if (done) {
    return (
      <AuthLayout title="Password changed">
        <p role="status">
          Your password is changed and your other sessions are signed out
          {done.apiTokensRevoked > 0 && <> and {done.apiTokensRevoked} API token{done.apiTokensRevoked === 1 ? '' : 's'} revoked</>}.
          Sign in with the new password.
        </p>
        <p><Link to="/login" className="button button-primary">Go to sign in</Link></p>
      </AuthLayout>
    );
  }

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const problem = passwordProblem(password);
    const mismatch = !problem && confirmation !== password ? 'The two passwords differ.' : undefined;
    setLocal({ ...(problem && { newPassword: problem }), ...(mismatch && { confirmation: mismatch }) });
    if (problem || mismatch) return;
    setBusy(true);
    setError(null);
    try {
      setDone(await api<{ apiTokensRevoked: number }>('/auth/password-reset/confirm', { method: 'POST', body: { token, newPassword: password }, redirectOn401: false }));
    } catch (caught) {
      setError(caught);
      setBusy(false);
    }
  };

  const errors = formErrors(error, ['newPassword'], local);
  return (
    <AuthLayout title="Choose a new password">
      <p className="muted">This link works once, for one hour.</p>
      {errors.other && (
        <p className="form-error" role="alert">
          {errors.other} <Link to="/forgot-password">Ask for a new link</Link>
        </p>
      )}
      <form onSubmit={(e) => void submit(e)} noValidate>
        <TextField
          id="reset-password" label="New password" type="password" required minLength={MIN_PASSWORD} maxLength={256} autoComplete="new-password"
          value={password} onChange={(e) => setPassword(e.target.value)} error={errors.field('newPassword')} hint={`At least ${MIN_PASSWORD} characters.`}
        />
        <TextField
          id="reset-confirmation" label="Repeat the new password" type="password" required maxLength={256} autoComplete="new-password"
          value={confirmation} onChange={(e) => setConfirmation(e.target.value)} error={errors.field('confirmation')}
        />
        <button type="submit" className="button button-primary button-block" disabled={busy}>{busy ? 'Saving…' : 'Set password'}</button>
      </form>
    </AuthLayout>
  );
}
