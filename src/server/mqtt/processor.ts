import type { DevicePrincipal } from '../core/access.js';
import type { Config } from '../core/config.js';
import { AppError } from '../core/http/errors.js';
import { ingestBodyLimitBytes, type IngestService } from '../ingest/service.js';
import { itemsOf, parseJson, PayloadError, type IngestKind, type MqttReport } from './payloads.js';

export type MqttIngest = Pick<IngestService, 'ingestTelemetry' | 'ingestEvents'>;

/** The write could not be done now (overload, database unavailable…): do not acknowledge the message. */
export class RetryLater extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

export interface IncomingMessage {
  topic: string;
  messageId?: number;
  payload: Buffer;
  /** Reserves the receive times (epoch ms, the first of `count`) of the message's items without a timestamp. */
  receivedAt: (deviceId: string, count: number) => number;
}

/**
 * One MQTT message → one ingest batch. Resolves after the batch is committed, with a report when
 * something was not stored (bad JSON, rejected items, empty or oversized batch: resending would not
 * help, so the message is acknowledged anyway). Throws RetryLater when nothing could be written and
 * the message must not be acknowledged.
 */
export class MessageProcessor {
  readonly maxPayloadBytes: number;

  constructor(
    private readonly ingest: MqttIngest,
    config: Config,
  ) {
    this.maxPayloadBytes = ingestBodyLimitBytes(config);
  }

  /** Checks size and JSON; the external bridge needs the parsed body before it knows the device. */
  parse(message: IncomingMessage): unknown {
    if (message.payload.length > this.maxPayloadBytes) {
      throw new PayloadError('payload_too_large', `a message holds at most ${this.maxPayloadBytes} bytes; this one has ${message.payload.length}: split it`);
    }
    return parseJson(message.payload);
  }

  async process(device: DevicePrincipal, kind: IngestKind, message: IncomingMessage, body: unknown): Promise<MqttReport | null> {
    try {
      const items = itemsOf(kind, body, (count) => message.receivedAt(device.deviceId, count));
      const result = kind === 'telemetry' ? await this.ingest.ingestTelemetry(device, items) : await this.ingest.ingestEvents(device, items);
      if (result.rejected.length === 0) return null;
      return {
        ...reportBase(message),
        code: 'rejected_items',
        message: `${result.rejected.length} of ${items.length} items were rejected in full or in part (see each item's fields); the rest was stored`,
        accepted: result.accepted,
        duplicates: result.duplicates,
        rejected: result.rejected,
      };
    } catch (error) {
      if (error instanceof PayloadError) return { ...reportBase(message), code: error.code, message: error.message };
      if (error instanceof AppError && error.status === 429) {
        const seconds = Number((error.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds ?? 1);
        throw new RetryLater(error.message, seconds * 1000, error);
      }
      if (error instanceof AppError && error.status < 500) return { ...reportBase(message), code: error.code, message: error.message };
      throw new RetryLater(`the batch could not be stored: ${(error as Error).message}`, 1000, error);
    }
  }

  /** The report for a message refused before reaching the ingest service. */
  static reportOf(message: IncomingMessage, error: PayloadError): MqttReport {
    return { ...reportBase(message), code: error.code, message: error.message };
  }
}

/** What every report says of its message: the topic, and the packet id when it has one. */
function reportBase(message: IncomingMessage): Pick<MqttReport, 'topic' | 'messageId'> {
  return { topic: message.topic, ...(message.messageId !== undefined && { messageId: message.messageId }) };
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
