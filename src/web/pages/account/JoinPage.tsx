import { useState, type FormEvent } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api } from '../../api/client';
import { signIn, type Registered } from '../../api/account';
import { keys } from '../../api/queries';
import { AuthLayout } from '../../components/AuthLayout';
import { TextField } from '../../components/TextField';
import { formErrors, MIN_PASSWORD, passwordProblem } from '../../lib/forms';
import { humanize } from '../../lib/format';
import { useTitle } from '../../lib/title';

type Mode = 'invitation' | 'code';

/**
 * `/invite?token=` (the link an invitation email carries) and `/register?code=` (sign-up with a
 * registration code): create the account, or add the organization to an existing one by its
 * password, then sign in.
 */
export function JoinPage({ mode }: { mode: Mode }) {
  const title = mode === 'invitation' ? 'Join your team on Vigil' : 'Create your Vigil account';
  useTitle(title);
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [values, setValues] = useState({ registrationCode: params.get('code') ?? '', email: '', name: '', password: '' });
  const [local, setLocal] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [joined, setJoined] = useState<Registered | null>(null);
  const set = (field: keyof typeof values) => (e: { target: { value: string } }) => setValues((v) => ({ ...v, [field]: e.target.value }));

  if (mode === 'invitation' && !token) {
    return (
      <AuthLayout title="This invitation link is incomplete">
        <p>Open the link from your invitation email exactly as it was sent, or ask the person who invited you for a new invitation.</p>
        <p><Link to="/login">Go to sign in</Link></p>
      </AuthLayout>
    );
  }
  if (joined) {
    return (
      <AuthLayout title="Welcome">
        <p role="status">You joined {joined.organization.name} as {humanize(joined.role)}. Sign in with {joined.user.email}.</p>
        <p><Link to="/login" className="button button-primary">Go to sign in</Link></p>
      </AuthLayout>
    );
  }

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const problems: Record<string, string> = {};
    if (mode === 'code' && !values.registrationCode.trim()) problems.registrationCode = 'Enter the registration code you were given.';
    if (mode === 'code' && !values.email.trim()) problems.email = 'Enter your email.';
    if (!values.name.trim()) problems.name = 'Enter your name.';
    const password = passwordProblem(values.password);
    if (password) problems.password = password;
    setLocal(problems);
    if (Object.keys(problems).length > 0) return;
    setBusy(true);
    setError(null);
    const body = mode === 'invitation'
      ? { invitationToken: token, name: values.name.trim(), password: values.password }
      : { registrationCode: values.registrationCode.trim(), email: values.email.trim(), name: values.name.trim(), password: values.password };
    let registered: Registered;
    try {
      registered = await api<Registered>('/auth/register', { method: 'POST', body, redirectOn401: false });
    } catch (caught) {
      setBusy(false);
      return setError(caught);
    }
    try {
      queryClient.setQueryData(keys.me, await signIn(registered.user.email, values.password));
      await navigate('/dashboard', { replace: true });
    } catch {
      // The account exists; signing in can still be refused (rate limit): say so and offer the page.
      setJoined(registered);
    }
  };

  const errors = formErrors(error, ['registrationCode', 'email', 'name', 'password'], local);
  return (
    <AuthLayout title={title}>
      <p className="muted">
        {mode === 'invitation'
          ? 'Choose your name and a password. If you already have a Vigil account, enter its password to add this organization to it.'
          : 'Enter the registration code your organization gave you. If you already have a Vigil account, use its email and password.'}
      </p>
      {errors.other && <p className="form-error" role="alert">{errors.other}</p>}
      <form onSubmit={(e) => void submit(e)} noValidate>
        {mode === 'code' && (
          <>
            <TextField id="join-code" label="Registration code" required maxLength={50} autoComplete="off" spellCheck={false} value={values.registrationCode} onChange={set('registrationCode')} error={errors.field('registrationCode')} />
            <TextField id="join-email" label="Email" type="email" required maxLength={320} autoComplete="username" value={values.email} onChange={set('email')} error={errors.field('email')} />
          </>
        )}
        <TextField id="join-name" label="Your name" required maxLength={200} autoComplete="name" value={values.name} onChange={set('name')} error={errors.field('name')} />
        <TextField
          id="join-password" label="Password" type="password" required minLength={MIN_PASSWORD} maxLength={256} autoComplete="new-password"
          value={values.password} onChange={set('password')} error={errors.field('password')} hint={`At least ${MIN_PASSWORD} characters.`}
        />
        <button type="submit" className="button button-primary button-block" disabled={busy}>
          {busy ? 'Joining…' : mode === 'invitation' ? 'Join' : 'Create account'}
        </button>
      </form>
      <p className="auth-footer">Already have an account? <Link to="/login">Sign in</Link></p>
    </AuthLayout>
  );
}
