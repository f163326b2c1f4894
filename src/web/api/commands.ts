import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api } from './client';
import type { Page } from './types';
import type { CommandStatus, DeviceCommand } from '../../shared/commands';

export type { CommandStatus, DeviceCommand };

export interface CommandInput {
  method: string;
  params: unknown;
  twoWay: boolean;
  timeoutSeconds: number;
}

export const COMMAND_STATUS_LABELS: Record<CommandStatus, string> = {
  queued: 'Waiting for the device',
  sent: 'Sent, waiting for the answer',
  delivered: 'Delivered',
  succeeded: 'Answered',
  failed: 'Failed',
  timed_out: 'No answer in time',
  expired: 'Expired: the device did not connect',
};

/** The live stream's `device.command` messages make these stale (lib/live.ts). */
export const commandKeys = {
  all: ['device-commands'] as const,
  device: (deviceId: string, cursor: string | null) => ['device-commands', deviceId, cursor] as const,
};

export function useDeviceCommands(deviceId: string, cursor: string | null) {
  return useQuery({
    queryKey: commandKeys.device(deviceId, cursor),
    queryFn: ({ signal }) => api<Page<DeviceCommand>>(`/devices/${encodeURIComponent(deviceId)}/commands`, { query: { cursor, limit: 20 }, signal }),
    placeholderData: keepPreviousData,
  });
}

/** Sends a command; a two-way one resolves with the answer (the call waits for it, up to the timeout). */
export function sendCommand(deviceId: string, input: CommandInput): Promise<DeviceCommand> {
  return api<DeviceCommand>(`/devices/${encodeURIComponent(deviceId)}/commands`, { method: 'POST', body: input });
}
