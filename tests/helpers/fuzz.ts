/**
 * Deterministic fuzzing: a seeded PRNG and generators of hostile JSON for device endpoints. A body is
 * built as a tree of plain values plus `Raw` (text written as is: deep nesting, numbers JSON.stringify
 * cannot write) and `Duplicated` (an object that repeats a key), then encoded to text.
 */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** mulberry32: small, fast and good enough to pick mutations. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
}

export class Raw {
  constructor(readonly text: string) {}
}

export class Duplicated {
  constructor(readonly entries: [string, unknown][]) {}
}

export function encode(value: unknown): string {
  if (value instanceof Raw) return value.text;
  if (value instanceof Duplicated) return `{${value.entries.map(([k, v]) => `${JSON.stringify(k)}:${encode(v)}`).join(',')}}`;
  if (Array.isArray(value)) return `[${value.map(encode).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => `${JSON.stringify(k)}:${encode(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const ODD_TIMESTAMPS = [
  '', ' ', 'now', '0000-00-00T00:00:00Z', '1970-01-01T00:00:00Z', '1999-12-31T23:59:59Z', '9999-12-31T23:59:59Z', '2024-02-30T00:00:00Z',
  '+275760-09-13T00:00:00Z', '-000001-01-01T00:00:00Z', '2026-03-10T08:00:00+25:00', '2026-03-10T25:61:61', '2026-03-10 08:00',
  '2026-03-10T08:00:00.123456789Z', '2026-W10-2', '2026-069', '20260310T080000Z', 'T08:00', '2026-03-10T08:00:00Z\u0000',
  '2026-03-10T08:00:00\ud800', '2026-13-01', `2026-03-10T08:00:00${' '.repeat(50)}`,
];

const NANISH = ['NaN', 'Infinity', '-Infinity', '-0', '1e999', '0x10', '1_000', '١٢', '', ' ', '+', '.', 'e5', '1e', '٣.٥', 'null', 'true'];

const RAW_NUMBERS = ['1e400', '-1e400', '1e-400', '123456789012345678901234567890', '-0', '0.0000000000000000000001', '9007199254740993'];

export class Hostile {
  constructor(private readonly rng: Rng) {}

  /** A text that PostgreSQL, a parser or a pattern might choke on. */
  string(): string {
    const r = this.rng;
    switch (r.int(0, 9)) {
      case 0: return `a\u0000b`;
      case 1: return r.pick(['\ud800', 'x\udc00y', '\ud83d', '\udfff\ud800']);
      case 2: return 'x'.repeat(r.int(201, 70_000));
      case 3: return '1'.repeat(r.int(100, 70_000)) + 'x';
      case 4: return r.pick(NANISH);
      case 5: return r.pick(ODD_TIMESTAMPS);
      case 6: return ' '.repeat(r.int(1, 5000)) + '.';
      case 7: return r.pick(['__proto__', 'constructor', 'prototype', '{{value}}', "'; DROP TABLE events; --", '%00', '\\u0000', '😀'.repeat(r.int(1, 300))]);
      case 8: return String.fromCharCode(...Array.from({ length: r.int(1, 40) }, () => r.int(0, 0xffff)));
      default: return `k-${r.int(0, 1e6)}`;
    }
  }

  number(): unknown {
    const r = this.rng;
    switch (r.int(0, 5)) {
      case 0: return r.pick([0, -1, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 5e-324, 2 ** 31, -(2 ** 63)]);
      case 1: return new Raw(r.pick(RAW_NUMBERS));
      case 2: return r.pick(NANISH);
      case 3: return r.int(-1000, 1000) / r.pick([1, 3, 7]);
      default: return r.int(0, 400);
    }
  }

  deep(): Raw {
    const depth = this.rng.pick([33, 100, 2000, 50_000]);
    const [open, close] = this.rng.chance(0.5) ? ['[', ']'] : ['{"a":', '}'];
    return new Raw(`${open.repeat(depth)}1${close.repeat(depth)}`);
  }

  /** Any value at all: wrong types, odd numbers, hostile text, nesting. */
  value(level = 0): unknown {
    const r = this.rng;
    switch (r.int(0, 9)) {
      case 0: return null;
      case 1: return r.chance(0.5);
      case 2: case 3: return this.number();
      case 4: case 5: return this.string();
      case 6: return level > 2 ? [] : Array.from({ length: r.int(0, 4) }, () => this.value(level + 1));
      case 7: return level > 2 ? {} : this.object(level + 1);
      case 8: return this.deep();
      default: return undefined;
    }
  }

  object(level = 0): Record<string, unknown> {
    const entries = Array.from({ length: this.rng.int(0, 4) }, () => [this.rng.chance(0.7) ? `k${this.rng.int(0, 9)}` : this.string(), this.value(level + 1)]);
    return Object.fromEntries(entries);
  }

  /** A copy of `base` with one to three fields set to hostile values, dropped, or duplicated. */
  mutate(base: Record<string, unknown>): unknown {
    const r = this.rng;
    const item: Record<string, unknown> = { ...base };
    const keys = Object.keys(base);
    for (let i = r.int(1, 3); i > 0; i--) {
      const key = r.chance(0.85) && keys.length > 0 ? r.pick(keys) : this.string();
      const action = r.int(0, 9);
      if (action === 0) delete item[key];
      else if (action === 1) return new Duplicated([...Object.entries(item), [key, this.value()]]);
      else item[key] = action < 5 ? this.string() : this.value();
    }
    return item;
  }

  /** Something other than a well-formed JSON document of the expected shape. */
  wholeBody(): string {
    const r = this.rng;
    switch (r.int(0, 7)) {
      case 0: return '';
      case 1: return r.pick(['{', '{"events": [', '[1,2', 'nul', '{"a":1}}', '\u0000', '{"events": [{"ts": "2026"}]', '\ufeff{}']);
      case 2: return encode(this.value());
      case 3: return encode(this.deep());
      case 4: return ' '.repeat(r.int(1, 10_000));
      case 5: return Buffer.from(Array.from({ length: r.int(1, 200) }, () => r.int(0, 255))).toString('latin1');
      case 6: return encode(new Duplicated([['events', []], ['items', {}], ['events', this.value()], ['items', this.value()]]));
      default: return encode(this.object());
    }
  }

  contentType(): string | undefined {
    return this.rng.pick([
      'application/json', 'application/json', 'application/json', 'application/json; charset=utf-16', 'text/plain', 'application/xml',
      'application/x-www-form-urlencoded', 'multipart/form-data', 'multipart/form-data; boundary=x', 'image/jpeg', 'application/octet-stream', undefined,
    ]);
  }
}
