import type { DevicePrincipal } from '../core/access.js';
import { AppError, invalidFields, notFound, unauthorized, type FieldError } from '../core/http/errors.js';
import { textProblem } from '../core/text.js';
import type { DevicesService } from '../devices/service.js';
import { receiveClock } from '../ingest/receive-clock.js';
import type { IngestService } from '../ingest/service.js';

/**
 * Polo Sanca refrigeration equipment, unchanged: one reading per request, `serial` in the body next
 * to the key, stamped with the server's time (the equipment sends none). See docs/device-protocols.md §3.
 */
const MEASUREMENTS = { temperature: 999.99, pressure: 99_999.99 } as const;
const FLAGS = ['door', 'heater', 'compressor', 'fan'] as const;

// A decimal number as form data carries it: "4", "-3.5", ".5", "1e3". Each part of the pattern matches
// what no neighbour can, so it never backtracks over a run of digits (it is linear in the length).
const DECIMAL = /^[-+]?(?:\d+(?:\.\d+)?|\.\d+)(?:e[-+]?\d+)?$/i;
export const MAX_NUMBER_CHARS = 32;

/** A reading's number, sent as a JSON number or as text; a string says what is wrong with it. */
export function readingNumber(value: unknown): number | string {
  if (typeof value === 'number') return Number.isFinite(value) ? value : 'must be a finite number';
  if (typeof value !== 'string') return 'must be a number';
  const text = value.trim();
  if (text.length > MAX_NUMBER_CHARS) return `must be a number of at most ${MAX_NUMBER_CHARS} characters`;
  return DECIMAL.test(text) ? Number(text) : 'must be a number';
}

function flagFrom(value: unknown): 0 | 1 | null {
  if (value === true || value === 1 || value === '1' || value === 'true') return 1;
  if (value === false || value === 0 || value === '0' || value === 'false') return 0;
  return null;
}

export class PoloSancaService {
  constructor(
    private readonly ingest: IngestService,
    private readonly devices: DevicesService,
  ) {}

  async record(device: DevicePrincipal, body: Record<string, unknown> | undefined) {
    if (!body || typeof body !== 'object') throw invalidFields([{ field: 'body', message: 'send the reading as JSON or form data' }]);
    const serial = body.serial;
    if (typeof serial !== 'string' || serial.trim() === '') throw invalidFields([{ field: 'serial', message: 'is required' }]);
    const serialProblem = textProblem(serial);
    if (serialProblem) throw invalidFields([{ field: 'serial', message: serialProblem }]);
    if (serial.trim() !== device.serial) {
      if (await this.devices.serialExists(device.orgId, serial.trim())) throw unauthorized('invalid serial or API key');
      throw notFound('equipment');
    }
    if (device.kind !== 'refrigeration') throw unauthorized('this key does not belong to refrigeration equipment');

    const errors: FieldError[] = [];
    const values: Record<string, number> = {};
    for (const [name, limit] of Object.entries(MEASUREMENTS)) {
      const value = readingNumber(body[name]);
      if (body[name] === undefined || body[name] === null || body[name] === '') errors.push({ field: name, message: 'is required' });
      else if (typeof value === 'string') errors.push({ field: name, message: value });
      else if (Math.abs(value) > limit) errors.push({ field: name, message: `must be between -${limit} and ${limit}` });
      else values[name] = value;
    }
    for (const name of FLAGS) {
      const value = flagFrom(body[name]);
      if (body[name] === undefined || body[name] === null || body[name] === '') errors.push({ field: name, message: 'is required (0 or 1)' });
      else if (value === null) errors.push({ field: name, message: 'must be 0 or 1' });
      else values[name] = value;
    }
    if (errors.length > 0) throw invalidFields(errors);

    // Stamped with the server's clock; two posts in one millisecond must still be two readings.
    const ts = new Date(receiveClock.reserve(device.deviceId));
    const result = await this.ingest.ingestTelemetry(device, [{ ts: ts.toISOString(), values }]);
    if (result.accepted !== 1) throw new AppError(409, 'duplicate_reading', 'a reading with this time is already stored; send it again');
    return {
      success: true,
      message: 'Telemetry recorded',
      timestamp: ts.toISOString(),
      record_id: `${device.deviceId}:${ts.getTime()}`,
    };
  }
}
