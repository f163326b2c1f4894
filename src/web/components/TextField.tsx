import type { InputHTMLAttributes, ReactNode } from 'react';

/**
 * A labelled input with its error message wired for assistive technology (aria-invalid and
 * aria-describedby): the one way forms in the console show a field and the server's complaint about it.
 */
export function TextField({ id, label, error, labelExtra, ...input }: {
  id: string;
  label: string;
  error?: string | null;
  /** Shown on the label's line, after the label (e.g. a "Forgot password?" link). */
  labelExtra?: ReactNode;
} & InputHTMLAttributes<HTMLInputElement>) {
  const errorId = `${id}-error`;
  const labelElement = <label htmlFor={id}>{label}</label>;
  return (
    <div className="field">
      {labelExtra ? <div className="field-label-row">{labelElement}{labelExtra}</div> : labelElement}
      <input id={id} aria-invalid={error ? true : undefined} aria-describedby={error ? errorId : undefined} {...input} />
      {error && <span className="field-error" id={errorId} role="alert">{error}</span>}
    </div>
  );
}
