import { useCallback, useEffect, useRef, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { challanKeys } from '../../api/challans';
import type { Done } from './BulkActions';

/** The register's toast: what just happened, with Undo for ten seconds when it can be taken back. */
export function useUndoToast(timeoutMs = 10_000) {
  const queryClient = useQueryClient();
  const [done, setDone] = useState<Done | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const show = useCallback((next: Done) => {
    clearTimeout(timer.current);
    setProblem(null);
    setDone(next);
    timer.current = setTimeout(() => setDone(null), timeoutMs);
  }, [timeoutMs]);
  const undo = useCallback(async () => {
    if (!done?.undo) return;
    clearTimeout(timer.current);
    try {
      await done.undo();
      await queryClient.invalidateQueries({ queryKey: challanKeys.all });
      show({ message: 'Undone.' });
    } catch (error) {
      setProblem(error instanceof Error ? error.message : 'It could not be undone.');
    }
  }, [done, show, queryClient]);
  return { done, problem, show, undo };
}

export function UndoToast({ toast }: { toast: ReturnType<typeof useUndoToast> }) {
  const { done, problem } = toast;
  return (
    <div className={`notice challan-toast${done ? '' : ' notice-empty'}`} role="status" aria-live="polite">
      {done && (
        <>
          <span><span aria-hidden="true">✓ </span>{done.message}</span>
          {done.undo && <button type="button" className="button button-small" onClick={() => void toast.undo()}>Undo</button>}
          {problem && <span className="field-error">{problem}</span>}
        </>
      )}
    </div>
  );
}
