/**
 * Minimal server-rendered pages for the links Vigil sends (setup, invitation, password reset) until the web
 * console serves them. Every value is escaped.
 */
export const escapeHtml = (value: string) =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function htmlPage(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Vigil</title>
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

/** A form field with its label. */
export function field(name: string, label: string, attributes = '', value = ''): string {
  return `<label for="${name}">${escapeHtml(label)}</label><input id="${name}" name="${name}" ${attributes} value="${escapeHtml(value)}">`;
}

/** The form page for an emailed link: a hidden token, the fields, an error line when the last try failed. */
export function tokenForm(options: { title: string; intro: string; action: string; token: string; fields: string; submit: string; error?: string }): string {
  return htmlPage(options.title, `<h1>${escapeHtml(options.title)}</h1><p>${escapeHtml(options.intro)}</p>
${options.error ? `<p class="error" role="alert">${escapeHtml(options.error)}</p>` : ''}
<form method="post" action="${options.action}"><input type="hidden" name="token" value="${escapeHtml(options.token)}">
${options.fields}<button type="submit">${escapeHtml(options.submit)}</button></form>`);
}

export function messagePage(title: string, message: string): string {
  return htmlPage(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>`);
}
