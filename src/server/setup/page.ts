/** The interim server-rendered first-run page (until the web console replaces it). */
const escape = (value: string) =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} · Vigil</title>
<style>
body{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem;color:#1f2933;background:#f7f9fb}
@media (prefers-color-scheme:dark){body{color:#e4e7eb;background:#12171c}input{background:#1f2933;color:#e4e7eb}}
h1{font-size:1.4rem}label{display:block;margin:.8rem 0 .2rem;font-weight:600}
input{width:100%;box-sizing:border-box;padding:.55rem;font-size:1rem;border:1px solid #9aa5b1;border-radius:6px}
button{margin-top:1.2rem;width:100%;padding:.7rem;font-size:1rem;border:0;border-radius:6px;background:#0b6bcb;color:#fff;cursor:pointer}
.error{background:#fde8e8;color:#8a1c1c;padding:.6rem;border-radius:6px}.hint{font-size:.85rem;color:#616e7c}
code{background:#e4e7eb;padding:.1rem .3rem;border-radius:4px;color:#1f2933}
</style></head><body><main>${body}</main></body></html>`;
}

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
<p>This setup link no longer works. Sign in with <code>POST /api/v1/auth/login</code>; the API is described at <a href="/docs">/docs</a>.</p>`);
}

export function setupClosed(): string {
  return layout('Setup', `<h1>Setup is not available</h1><p>This link is not valid or setup is already complete. Ask your administrator to sign in, or run <code>vigil user create</code> on the server.</p>`);
}
