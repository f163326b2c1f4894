import { useState, type FormEvent } from 'react';
import { Link, useLocation } from 'react-router';
import { api, ApiError } from '../api/client';
import { AuthLayout } from '../components/AuthLayout';
import { TextField } from '../components/TextField';
import { useTitle } from '../lib/title';

/** Asks for a reset link (POST /auth/password-reset/request); the link opens the server's /reset-password page. */
export function ForgotPasswordPage() {
  useTitle('Reset your password');
  // The sign-in page hands over what was typed there (in history state: an address would reach logs).
  const handed = (useLocation().state as { email?: unknown } | null)?.email;
  const [email, setEmail] = useState(typeof handed === 'string' ? handed : '');
  const [sent, setSent] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = await api<{ message: string }>('/auth/password-reset/request', { method: 'POST', body: { email: email.trim() }, redirectOn401: false });
      setSent(answer.message);
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'unknown', 'The request failed. Try again.'));
    } finally {
      setBusy(false);
    }
  };

  const emailError = error?.fieldMessage('email');
  return (
    <AuthLayout title="Reset your password">
      {sent ? (
        <div className="form-success" role="status">
          <p>{sent}</p>
          <p>The link in the email works once, for one hour.</p>
        </div>
      ) : (
        <>
          <p className="muted">Enter the email you sign in with. If it belongs to an account, we send a link to choose a new password.</p>
          {error && !emailError && <p className="form-error" role="alert">{error.message}</p>}
          <form onSubmit={(e) => void submit(e)}>
            <TextField
              id="reset-email"
              label="Email"
              type="email"
              autoComplete="email"
              required
              maxLength={320}
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              error={emailError && `Email ${emailError}`}
            />
            <button type="submit" className="button button-primary button-block" disabled={busy}>
              {busy ? 'Sending…' : 'Send reset link'}
            </button>
          </form>
        </>
      )}
      <p className="auth-footer"><Link to="/login">Back to sign in</Link></p>
    </AuthLayout>
  );
}
