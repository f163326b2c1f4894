import { useState, type FormEvent } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router';
import { api, ApiError, setCsrfToken } from '../api/client';
import { keys, useMe } from '../api/queries';
import type { Me } from '../api/types';
import { AuthLayout } from '../components/AuthLayout';
import { TextField } from '../components/TextField';
import { useTitle } from '../lib/title';

/** Where to go after signing in: a console path from `?next=`, never another site. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || next.startsWith('/login')) return '/dashboard';
  return next;
}

export function LoginPage() {
  useTitle('Sign in');
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const me = useMe();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  if (me.isSuccess) return <Navigate to={next} replace />;

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await api<Me>('/auth/login', { method: 'POST', body: { email: email.trim(), password }, redirectOn401: false });
      setCsrfToken(session.csrfToken);
      queryClient.setQueryData(keys.me, session);
      await navigate(next, { replace: true });
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'unknown', 'Signing in failed. Try again.'));
      setBusy(false);
    }
  };

  const emailError = error?.fieldMessage('email');
  const passwordError = error?.fieldMessage('password');
  return (
    <AuthLayout title="Sign in">
      {error && !emailError && !passwordError && (
        <p className="form-error" role="alert" id="login-error">{error.message}</p>
      )}
      <form onSubmit={(e) => void submit(e)} aria-describedby={error ? 'login-error' : undefined}>
        <TextField
          id="login-email"
          label="Email"
          type="email"
          autoComplete="username"
          required
          maxLength={320}
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={emailError && `Email ${emailError}`}
        />
        <TextField
          id="login-password"
          label="Password"
          labelExtra={<Link to="/forgot-password" state={{ email }} className="small-link">Forgot password?</Link>}
          type="password"
          autoComplete="current-password"
          required
          maxLength={256}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={passwordError && `Password ${passwordError}`}
        />
        <button type="submit" className="button button-primary button-block" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p className="auth-footer">Have a registration code? <Link to="/register">Create an account</Link></p>
    </AuthLayout>
  );
}
