import { ApiError } from '../api/client';

/** The server's answer to a form, split into messages for the named fields and one for the rest. */
export function formErrors(error: unknown, fields: readonly string[], local: Record<string, string> = {}) {
  const server = error instanceof ApiError ? error : null;
  const field = (name: string): string | undefined => {
    if (local[name]) return local[name];
    const message = server?.fieldMessage(name);
    return message ? sentenceFor(name, message) : undefined;
  };
  const namesAField = server?.details.some((d) => fields.includes(d.field)) ?? false;
  const other = error instanceof Error && !namesAField ? error.message : null;
  return { field, other };
}

/** The server says "must NOT have fewer than 10 characters" about `password`: shown as a sentence. */
function sentenceFor(field: string, message: string): string {
  const text = message.trim();
  if (/^[A-Z]/.test(text)) return /[.!?]$/.test(text) ? text : `${text}.`;
  const label = field.replace(/([A-Z])/g, ' $1').toLowerCase();
  return `${label[0]!.toUpperCase()}${label.slice(1)} ${text}${/[.!?]$/.test(text) ? '' : '.'}`;
}

export const MIN_PASSWORD = 10;

/** A local check before asking the server: the same rule it applies. */
export function passwordProblem(password: string, confirmation?: string): string | undefined {
  if (password.length < MIN_PASSWORD) return `Use at least ${MIN_PASSWORD} characters.`;
  if (confirmation !== undefined && confirmation !== password) return 'The two passwords differ.';
  return undefined;
}

/** The local errors without those of `fields`: a field's own complaint goes once it is edited. */
export function without(errors: Record<string, string>, ...fields: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(errors).filter(([field]) => !fields.includes(field)));
}
