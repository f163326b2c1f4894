/**
 * Receive times for readings that carry no time of their own. A reading is identified by its device,
 * metric and time, so two readings stamped with the same millisecond would be stored as one: each
 * device's stamps are therefore distinct and increasing, a millisecond apart when they arrive faster
 * than the clock ticks (a device's offline queue flushed on reconnect). One clock per process, shared
 * by every path a device may use (HTTP, the embedded broker, the external bridge, Polo Sanca).
 */
export class ReceiveClock {
  private last = new Map<string, number>();
  /** The latest stamp handed out before the map was last cleared: no stamp after it goes below. */
  private floor = 0;
  private highest = 0;

  constructor(private readonly maxDevices = 100_000) {}

  /** Reserves `count` consecutive milliseconds for the device; returns the first. */
  reserve(deviceId: string, count = 1, now = Date.now()): number {
    if (this.last.size >= this.maxDevices) {
      // Forgetting devices would let a device's next stamp fall back onto one already given: every
      // stamp after the reset starts above all the stamps given before it.
      this.floor = this.highest;
      this.last = new Map();
    }
    const first = Math.max(now, (this.last.get(deviceId) ?? this.floor) + 1);
    const end = first + Math.max(1, count) - 1;
    this.last.set(deviceId, end);
    if (end > this.highest) this.highest = end;
    return first;
  }
}

/** This process's clock. */
export const receiveClock = new ReceiveClock();

const lacksTime = (item: unknown) => typeof item === 'object' && item !== null && !Array.isArray(item) && (item as { ts?: unknown }).ts == null;

/**
 * The items (objects) without a `ts` get receive times, one each in the order given, from `reserve`
 * (the first of `count` consecutive milliseconds); the others are returned as they are.
 */
export function stampMissingTimes(items: unknown[], reserve: (count: number) => number): unknown[] {
  let missing = 0;
  for (const item of items) if (lacksTime(item)) missing++;
  // The common case, every item timed, allocates nothing (MQTT ingest's hot path).
  if (missing === 0) return items;
  let next = reserve(missing);
  return items.map((item) => (lacksTime(item) ? { ...(item as object), ts: new Date(next++) } : item));
}
