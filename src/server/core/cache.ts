import { ACCESS_CHANGED, type AccessChange } from './access.js';
import type { BusMessage } from './bus.js';

const TTL_MS = 10_000;
const MAX_ENTRIES = 50_000;

interface Entry<T> {
  value: T;
  expires: number;
  subjectId: string;
  credentialId: string | null;
}

/**
 * A short-lived cache of who a credential is (a user's session or token, a device's key), so a
 * request does not cost a database round trip.
 * Correctness comes from invalidation, not from the TTL: every change of access is announced on the
 * bus (to every process, with Redis) and drops the entries it touches before the change's response
 * is sent. The TTL only bounds memory and lets "last seen" be recorded.
 */
export class TtlCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  get(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires < Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: T, subjectId: string, credentialId: string | null): void {
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(key, { value, expires: Date.now() + TTL_MS, subjectId, credentialId });
  }

  /** Drops the entries a bus message makes stale. */
  apply(message: BusMessage): void {
    if (message.type === 'session.revoked') return this.drop({ credentialIds: message.data.sessionIds as string[] });
    if (message.type === ACCESS_CHANGED) this.drop(message.data as AccessChange);
  }

  private drop(change: AccessChange): void {
    if (change.everyone) return this.entries.clear();
    const subjects = new Set(change.subjectIds ?? []);
    const credentials = new Set(change.credentialIds ?? []);
    for (const [key, entry] of this.entries) {
      if (subjects.has(entry.subjectId) || (entry.credentialId !== null && credentials.has(entry.credentialId))) this.entries.delete(key);
    }
  }
}

