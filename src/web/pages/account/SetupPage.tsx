import { useState, type FormEvent } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, ApiError } from '../../api/client';
import { signIn, useSetupState } from '../../api/account';
import { keys } from '../../api/queries';
import { AuthLayout } from '../../components/AuthLayout';
import { TextField } from '../../components/TextField';
import { ErrorState, LoadingState } from '../../components/states';
import { formErrors, MIN_PASSWORD, passwordProblem, without } from '../../lib/forms';
import { useTitle } from '../../lib/title';

const FIELDS = ['organizationName', 'name', 'email', 'password'] as const;

/**
 * `/setup?token=`: the first-run page whose one-time link `npm start` prints. Creates the platform
 * administrator and the first organization, then signs them in.
 */
export function SetupPage() {
  useTitle('First-run setup');
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const required = useSetupState(token);
  const [closed, setClosed] = useState(false);

  if (required.isPending) return <AuthLayout title="First-run setup"><LoadingState label="Checking setup…" /></AuthLayout>;
  if (required.isError) {
    return <AuthLayout title="First-run setup"><ErrorState title="Setup could not be checked" error={required.error} onRetry={() => void required.refetch()} /></AuthLayout>;
  }
  if (!required.data.required || closed || !required.data.tokenValid) {
    return (
      <AuthLayout title={required.data.required ? 'This setup link is not valid' : 'Setup is complete'}>
        <p>
          {required.data.required
            ? <>Open the one-time link that Vigil printed when it started (<code>/setup?token=…</code>), or restart Vigil to print a new one.</>
            : <>Vigil already has an administrator. Sign in, or ask your administrator for an invitation or a registration code.</>}
        </p>
        <p><Link to="/login" className="button button-primary">Go to sign in</Link></p>
      </AuthLayout>
    );
  }
  return <SetupForm token={token} onClosed={() => setClosed(true)} />;
}

function SetupForm({ token, onClosed }: { token: string; onClosed: () => void }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [values, setValues] = useState({ organizationName: '', name: '', email: '', password: '' });
  const [local, setLocal] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = (field: keyof typeof values) => (e: { target: { value: string } }) => {
    setValues((v) => ({ ...v, [field]: e.target.value }));
    setLocal((errors) => without(errors, field));
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const problems: Record<string, string> = {};
    if (!values.organizationName.trim()) problems.organizationName = 'Enter the organization’s name.';
    if (!values.name.trim()) problems.name = 'Enter your name.';
    const password = passwordProblem(values.password);
    if (password) problems.password = password;
    setLocal(problems);
    if (Object.keys(problems).length > 0) return;
    setBusy(true);
    setError(null);
    const email = values.email.trim();
    try {
      await api('/setup', { method: 'POST', body: { token, organizationName: values.organizationName.trim(), name: values.name.trim(), email, password: values.password }, redirectOn401: false });
    } catch (caught) {
      setBusy(false);
      if (caught instanceof ApiError && caught.status === 403) return onClosed();
      return setError(caught);
    }
    try {
      queryClient.setQueryData(keys.me, await signIn(email, values.password));
      await navigate('/dashboard', { replace: true, state: { welcome: true } });
    } catch {
      await navigate('/login', { replace: true });
    }
  };

  const errors = formErrors(error, FIELDS, local);
  return (
    <AuthLayout title="Welcome to Vigil">
      <p className="muted">Create the platform administrator and your first organization. This link works once.</p>
      {errors.other && <p className="form-error" role="alert">{errors.other}</p>}
      <form onSubmit={(e) => void submit(e)} noValidate>
        <TextField id="setup-organization" label="Organization name" required maxLength={200} value={values.organizationName} onChange={set('organizationName')} error={errors.field('organizationName')} />
        <TextField id="setup-name" label="Your name" required maxLength={200} autoComplete="name" value={values.name} onChange={set('name')} error={errors.field('name')} />
        <TextField id="setup-email" label="Email" type="email" required maxLength={320} autoComplete="username" value={values.email} onChange={set('email')} error={errors.field('email')} />
        <TextField
          id="setup-password" label="Password" type="password" required minLength={MIN_PASSWORD} maxLength={256} autoComplete="new-password"
          value={values.password} onChange={set('password')} error={errors.field('password')} hint={`At least ${MIN_PASSWORD} characters.`}
        />
        <button type="submit" className="button button-primary button-block" disabled={busy}>{busy ? 'Creating…' : 'Create administrator'}</button>
      </form>
    </AuthLayout>
  );
}
