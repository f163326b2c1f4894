import { useEffect } from 'react';

/** Sets the tab title: "Devices · Vigil". */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Vigil` : 'Vigil';
  }, [title]);
}
