import type { Scope } from '../core/access.js';
import type { Bus, BusMessage } from '../core/bus.js';
import { roleMay } from '../core/permissions.js';

/** How many recent messages each process keeps for `Last-Event-ID` resume. */
export const RESUME_BUFFER_SIZE = 1000;

/** Whether a caller with this scope may receive a message. */
export function visibleTo(message: BusMessage, scope: Scope): boolean {
  if (message.orgId !== scope.orgId) return false;
  if (message.requires && !roleMay(scope.role, message.requires)) return false;
  if (message.userId !== undefined && message.userId !== scope.userId) return false;
  // siteId null is a device without a site: members limited to some sites cannot see it (absent = org-wide).
  if (scope.siteIds && message.siteId !== undefined && (message.siteId === null || !scope.siteIds.includes(message.siteId))) return false;
  return true;
}

/**
 * Keeps the last messages of the bus in arrival order so a reconnecting client can be sent what it
 * missed; older gaps are reported so the client refetches instead of silently losing data.
 */
export class StreamService {
  private readonly recent: BusMessage[] = [];
  private readonly unsubscribe: () => void;

  constructor(private readonly bus: Bus, private readonly capacity = RESUME_BUFFER_SIZE) {
    this.unsubscribe = bus.subscribe((message) => {
      if (message.orgId === null) return;
      this.recent.push(message);
      if (this.recent.length > this.capacity) this.recent.shift();
    });
  }

  /** Messages after `lastEventId`, or null when that id is no longer (or never was) in the buffer. */
  missedSince(lastEventId: string, scope: Scope): BusMessage[] | null {
    const index = this.recent.findIndex((m) => m.id === lastEventId);
    if (index < 0) return null;
    return this.recent.slice(index + 1).filter((m) => visibleTo(m, scope));
  }

  subscribe(handler: (message: BusMessage) => void): () => void {
    return this.bus.subscribe(handler);
  }

  close(): void {
    this.unsubscribe();
  }
}
