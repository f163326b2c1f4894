import type { DevicePrincipal } from '../core/access.js';
import type { EventItem } from './items.js';
import type * as store from './store.js';

/** Telemetry readings a batch newly stored (duplicates excluded), handed to observers after commit. */
export interface StoredTelemetry {
  device: DevicePrincipal;
  readings: store.Reading[];
}

/** Text and JSON values a batch newly stored in telemetry_values (duplicates excluded), handed to observers after commit. */
export interface StoredValues {
  device: DevicePrincipal;
  values: store.DeviceTypedValue[];
  /** The same batch also stored numeric readings, handed to `telemetryStored` first (it has seen data from the device already). */
  readingsStored: boolean;
}

/** Events a batch newly stored (duplicates excluded), handed to observers after commit. */
export interface StoredEvents {
  device: DevicePrincipal;
  events: { id: string; item: EventItem }[];
}

/**
 * Reacts to data once it is committed (e.g. alert evaluation). An observer's failure is logged and
 * never fails the batch: the data is already stored.
 */
export interface IngestObserver {
  telemetryStored?(batch: StoredTelemetry): Promise<void>;
  valuesStored?(batch: StoredValues): Promise<void>;
  eventsStored?(batch: StoredEvents): Promise<void>;
}
