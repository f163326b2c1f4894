/** The interim server-rendered first-run page (until the web console replaces it). */
import { escapeHtml as escape, htmlPage as layout } from '../core/http/html.js';

export interface SetupFormValues {
  email?: string;
  name?: string;
  organizationName?: string;
}

export function setupForm(token: string, values: SetupFormValues = {}, error?: string): string {
  return layout('First-run setup', `<h1>Welcome to Vigil</h1>
<p>Create the platform administrator and your first organization.</p>
${error ? `<p class="error" role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/setup">
<input type="hidden" name="token" value="${escape(token)}">
<label for="organizationName">Organization name</label><input id="organizationName" name="organizationName" required maxlength="200" value="${escape(values.organizationName ?? '')}">
<label for="name">Your name</label><input id="name" name="name" required maxlength="200" autocomplete="name" value="${escape(values.name ?? '')}">
<label for="email">Email</label><input id="email" name="email" type="email" required autocomplete="email" value="${escape(values.email ?? '')}">
<label for="password">Password</label><input id="password" name="password" type="password" required minlength="10" maxlength="256" autocomplete="new-password">
<p class="hint">At least 10 characters.</p>
<button type="submit">Create administrator</button>
</form>`);
}

export function setupDone(email: string, organization: string): string {
  return layout('Setup complete', `<h1>Setup complete</h1>
<p><strong>${escape(email)}</strong> is the platform administrator and owner of <strong>${escape(organization)}</strong>.</p>
<p>This setup link no longer works. <a href="/login">Sign in</a> with your email and password; the API is described at <a href="/docs">/docs</a>.</p>`);
}

export function setupClosed(): string {
  return layout('Setup', `<h1>Setup is not available</h1><p>This link is not valid or setup is already complete. Ask your administrator to sign in, or run <code>vigil user create</code> on the server.</p>`);
}
