import { useCallback } from 'react';
import { useSearchParams } from 'react-router';

/**
 * Changes some query parameters of the current address (a page's filter), keeping the others; null or
 * '' removes one. It starts from the address itself, not a render's snapshot, so a change made later
 * (after a typing pause) cannot write back an older filter. The history entry is replaced, and the
 * update is synchronous so that controls never flicker back.
 */
export function useUpdateSearchParams(): (changes: Record<string, string | null>) => void {
  const [, setParams] = useSearchParams();
  return useCallback((changes) => {
    const next = new URLSearchParams(window.location.search);
    for (const [name, value] of Object.entries(changes)) {
      if (value) next.set(name, value);
      else next.delete(name);
    }
    setParams(next, { replace: true, flushSync: true });
  }, [setParams]);
}
