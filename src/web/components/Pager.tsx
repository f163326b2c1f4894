import { useCallback, useState } from 'react';

/**
 * Keyset paging: the API gives each page's `nextCursor`; going back needs the cursors already seen.
 * Reset by re-mounting (key the owner by its filter).
 */
export function useCursorPager() {
  const [stack, setStack] = useState<(string | null)[]>([null]);
  const cursor = stack[stack.length - 1] ?? null;
  const next = useCallback((nextCursor: string) => setStack((s) => [...s, nextCursor]), []);
  const previous = useCallback(() => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)), []);
  return { cursor, page: stack.length, next, previous };
}

export function Pager({ page, nextCursor, onNext, onPrevious, label, busy }: {
  page: number;
  nextCursor: string | null | undefined;
  onNext: (cursor: string) => void;
  onPrevious: () => void;
  label: string;
  busy?: boolean;
}) {
  if (page === 1 && !nextCursor) return null;
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" className="button" onClick={onPrevious} disabled={page === 1 || busy}>
        ‹ Previous
      </button>
      <span className="pager-page">Page {page}</span>
      <button type="button" className="button" onClick={() => nextCursor && onNext(nextCursor)} disabled={!nextCursor || busy}>
        Next ›
      </button>
    </nav>
  );
}
