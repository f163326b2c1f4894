import { useState, type FormEvent } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, ApiError } from '../../api/client';
import { signIn, useInvitationPreview, type Registered } from '../../api/account';
import { keys } from '../../api/queries';
import { AuthLayout } from '../../components/AuthLayout';
import { ErrorState, LoadingState } from '../../components/states';
import { TextField } from '../../components/TextField';
import { formErrors, MIN_PASSWORD, passwordProblem, without } from '../../lib/forms';
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
  const set = (field: keyof typeof values) => (e: { target: { value: string } }) => {
    setValues((v) => ({ ...v, [field]: e.target.value }));
    setLocal((errors) => without(errors, field));
  };
  const preview = useInvitationPreview(mode === 'invitation' ? token : '');
  const invitation = preview.data;
  const existingAccount = invitation?.accountExists ?? false;

  if (mode === 'invitation' && token.length < 10) {
    return (
      <AuthLayout title="This invitation link is incomplete">
        <p>Open the link from your invitation email exactly as it was sent, or ask the person who invited you for a new invitation.</p>
        <p><Link to="/login">Go to sign in</Link></p>
      </AuthLayout>
    );
  }
  if (mode === 'invitation' && preview.isPending) return <AuthLayout title={title}><LoadingState label="Opening the invitation…" /></AuthLayout>;
  if (mode === 'invitation' && preview.isError) {
    return preview.error instanceof ApiError && preview.error.status === 400 ? (
      <AuthLayout title="This invitation can no longer be used">
        <p>It was already accepted, revoked, or it expired (invitations last 7 days). Ask the person who invited you for a new one; if you already joined, sign in.</p>
        <p><Link to="/login" className="button button-primary">Go to sign in</Link></p>
      </AuthLayout>
    ) : (
      <AuthLayout title={title}><ErrorState title="The invitation could not be opened" error={preview.error} onRetry={() => void preview.refetch()} /></AuthLayout>
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
    if (!existingAccount && !values.name.trim()) problems.name = 'Enter your name.';
    const password = existingAccount ? (values.password ? undefined : 'Enter your Vigil password.') : passwordProblem(values.password);
    if (password) problems.password = password;
    setLocal(problems);
    if (Object.keys(problems).length > 0) return;
    setBusy(true);
    setError(null);
    const body = mode === 'invitation'
      ? { invitationToken: token, ...(!existingAccount && { name: values.name.trim() }), password: values.password }
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
      {invitation ? (
        <p>
          You are invited to <strong>{invitation.organizationName}</strong> as <strong>{humanize(invitation.role)}</strong>, at {invitation.email}.{' '}
          {existingAccount ? 'You already have a Vigil account: enter its password to add this organization to it.' : 'Choose your name and a password.'}
        </p>
      ) : (
        <p className="muted">Enter the registration code your organization gave you. If you already have a Vigil account, use its email and password.</p>
      )}
      {errors.other && <p className="form-error" role="alert">{errors.other}</p>}
      <form onSubmit={(e) => void submit(e)} noValidate>
        {mode === 'code' && (
          <>
            <TextField id="join-code" label="Registration code" required maxLength={50} autoComplete="off" spellCheck={false} value={values.registrationCode} onChange={set('registrationCode')} error={errors.field('registrationCode')} />
            <TextField id="join-email" label="Email" type="email" required maxLength={320} autoComplete="username" value={values.email} onChange={set('email')} error={errors.field('email')} />
          </>
        )}
        {invitation && <input type="email" autoComplete="username" value={invitation.email} readOnly hidden />}
        {!existingAccount && (
          <TextField id="join-name" label="Your name" required maxLength={200} autoComplete="name" value={values.name} onChange={set('name')} error={errors.field('name')} />
        )}
        <TextField
          id="join-password" label={existingAccount ? 'Your Vigil password' : 'Password'} type="password" required minLength={MIN_PASSWORD} maxLength={256}
          autoComplete={existingAccount ? 'current-password' : 'new-password'} value={values.password} onChange={set('password')} error={errors.field('password')}
          hint={existingAccount ? undefined : `At least ${MIN_PASSWORD} characters.`}
        />
        <button type="submit" className="button button-primary button-block" disabled={busy}>
          {busy ? 'Joining…' : invitation ? `Join ${invitation.organizationName}` : 'Create account'}
        </button>
      </form>
      {mode === 'code' && <p className="auth-footer">Already have an account? <Link to="/login">Sign in</Link></p>}
    </AuthLayout>
  );
}
