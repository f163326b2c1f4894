import type { InputHTMLAttributes, ReactNode } from 'react';

/**
 * A labelled input with its hint and error message wired for assistive technology (aria-invalid and
 * aria-describedby): the one way forms in the console show a field and the server's complaint about it.
 */
export function TextField({ id, label, error, hint, labelExtra, ...input }: {
  id: string;
  label: string;
  error?: string | null;
  /** A standing explanation under the field ("At least 10 characters."). */
  hint?: ReactNode;
  /** Shown on the label's line, after the label (e.g. a "Forgot password?" link). */
  labelExtra?: ReactNode;
} & InputHTMLAttributes<HTMLInputElement>) {
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const describedBy = [hint ? hintId : null, error ? errorId : null].filter(Boolean).join(' ') || undefined;
  const labelElement = <label htmlFor={id}>{label}</label>;
  return (
    <div className="field">
      {labelExtra ? <div className="field-label-row">{labelElement}{labelExtra}</div> : labelElement}
      <input id={id} aria-invalid={error ? true : undefined} aria-describedby={describedBy} {...input} />
      {hint && <span className="field-hint" id={hintId}>{hint}</span>}
      {error && <span className="field-error" id={errorId} role="alert">{error}</span>}
    </div>
  );
}
