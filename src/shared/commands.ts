/** Commands (RPC) to devices, as the API shows them: one shape for the server and the console. */
export type CommandStatus = 'queued' | 'sent' | 'delivered' | 'succeeded' | 'failed' | 'timed_out' | 'expired';

/** A command sent to a device and, for a two-way one, its answer. */
export interface DeviceCommand {
  id: string;
  requestId: number;
  deviceId: string;
  method: string;
  params: unknown;
  twoWay: boolean;
  status: CommandStatus;
  response: unknown;
  error: string | null;
  timeoutSeconds: number;
  deadline: string;
  createdBy: string | null;
  createdByLabel: string | null;
  createdAt: string;
  sentAt: string | null;
  answeredAt: string | null;
}
