import { useCallback, useEffect, useRef, useState } from 'react';

/** A polite status message for what just succeeded ("Site created."), shown as a toast and cleared after a while. */
export function useNotice(timeoutMs = 6000) {
  const [message, setMessage] = useState('');
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const show = useCallback((text: string) => {
    clearTimeout(timer.current);
    setMessage(text);
    timer.current = setTimeout(() => setMessage(''), timeoutMs);
  }, [timeoutMs]);
  return { message, show };
}

export function Notice({ message }: { message: string }) {
  return (
    <p className={`notice${message ? '' : ' notice-empty'}`} role="status" aria-live="polite">
      {message && <span aria-hidden="true">✓ </span>}
      {message}
    </p>
  );
}
