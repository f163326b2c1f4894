import type { BusMessage } from '../core/bus.js';

const TTL_MS = 30_000;
const MAX_ENTRIES = 5_000;

/** Bus messages after which a public answer may be stale: sharing or photo opt-ins, a device renamed, moved or deleted. */
const STALE_AFTER = new Set(['community.changed', 'organization.updated', 'device.updated', 'device.deleted']);

/**
 * Public answers, kept a short while so a busy public page costs the database one query per TTL.
 * An opt-out must hide a device at once, so every change that could alter a public answer clears the
 * whole cache (changes are rare; public answers are cheap to rebuild). Concurrent misses share one build.
 */
export class PublicCache {
  private readonly entries = new Map<string, { value: Promise<unknown>; expires: number }>();
  private generation = 0;

  async get<T>(key: string, build: () => Promise<T>): Promise<T> {
    const entry = this.entries.get(key);
    if (entry && entry.expires > Date.now()) return entry.value as Promise<T>;
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    const generation = this.generation;
    const value = build();
    this.entries.set(key, { value, expires: Date.now() + TTL_MS });
    try {
      return await value;
    } catch (error) {
      this.entries.delete(key);
      throw error;
    } finally {
      // Built from data read before a change that arrived meanwhile: do not keep it.
      if (generation !== this.generation) this.entries.delete(key);
    }
  }

  apply(message: BusMessage): void {
    if (!STALE_AFTER.has(message.type)) return;
    this.generation += 1;
    this.entries.clear();
  }
}

export const PUBLIC_MAX_AGE_SECONDS = 15;
