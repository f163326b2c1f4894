import { useId, useState } from 'react';

/**
 * A secret the server shows only once (an API token, a registration code): selectable, copyable,
 * with the warning that it will not be shown again.
 */
export function SecretReveal({ label, value, children }: { label: string; value: string; children?: React.ReactNode }) {
  const id = useId();
  const [copied, setCopied] = useState('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied('Copied to the clipboard.');
    } catch {
      setCopied('Copying was refused; select the text and copy it.');
    }
  };
  return (
    <div className="form-success secret-reveal">
      {children}
      <p><strong>Copy it now: it will not be shown again.</strong></p>
      <div className="invite-link">
        <label htmlFor={id} className="visually-hidden">{label}</label>
        <input id={id} readOnly value={value} onFocus={(e) => e.target.select()} spellCheck={false} />
        <button type="button" className="button" onClick={() => void copy()}>Copy</button>
      </div>
      <p className="small muted" role="status">{copied}</p>
    </div>
  );
}
