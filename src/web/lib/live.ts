import { useEffect, useRef, useState } from 'react';
import { useQueryClient, type QueryKey } from '@tanstack/react-query';
import { cameraKeys } from '../api/cameras';
import { commandKeys } from '../api/commands';
import { maintenanceKeys } from '../api/maintenance';
import { keys } from '../api/queries';

export type LiveState = 'connecting' | 'live' | 'offline';

/** Stream message types and the queries each one makes stale. */
const INVALIDATES: Record<string, QueryKey[]> = {
  'events.ingested': [keys.events],
  'event.photo': [keys.events],
  'events.acknowledged': [keys.events],
  'device.status': [keys.devices],
  'device.updated': [keys.devices],
  'device.deleted': [keys.devices, keys.events, cameraKeys.all],
  'device.command': [commandKeys.all],
  'device.created': [keys.devices, cameraKeys.all],
  'camera.status': [cameraKeys.all],
  'camera.updated': [cameraKeys.all],
  'telemetry.ingested': [['devices', 'telemetry']],
  'alert.opened': [['alerts']],
  'alert.updated': [['alerts']],
  'alert.acknowledged': [['alerts']],
  'alert.resolved': [['alerts']],
  'alert.notification': [['alerts']],
  'maintenance.reminder': [maintenanceKeys.all],
  'alert_rule.changed': [['alert-rules']],
  'site.created': [keys.sites],
  'site.updated': [keys.sites],
  'site.deleted': [keys.sites],
  'maintenance.created': [maintenanceKeys.all],
  'maintenance.updated': [maintenanceKeys.all],
  'maintenance.deleted': [maintenanceKeys.all],
  'maintenance.attachment_added': [maintenanceKeys.all],
  'maintenance.attachment_removed': [maintenanceKeys.all],
  'report.progress': [['reports']],
  'report.deleted': [['reports']],
  'challan.created': [['challans']],
  'challan.updated': [['challans']],
  'challan.deleted': [['challans']],
  'challan.restored': [['challans']],
  'challan.pod_attached': [['challans']],
  'customer.created': [['customers']],
  'customer.updated': [['customers']],
  'customer.deleted': [['customers']],
};

interface NotificationMessage {
  event?: string;
  reason?: string;
  alert?: { message: string; severity: string };
  notice?: { subject: string };
}

/** What a notification for this user (an in-app channel, or a personal one) says in a toast. */
export function notificationText(type: string, data: NotificationMessage): string | null {
  if (type === 'maintenance.reminder') return data.notice?.subject ?? null;
  if (!data.alert) return null;
  if (data.reason === 'acknowledged_by_you') return `Resolved: ${data.alert.message} (you acknowledged it)`;
  const what = data.event === 'alert.resolved' ? 'Resolved' : data.event === 'alert.escalated' ? 'Escalated' : `${data.alert.severity[0]!.toUpperCase()}${data.alert.severity.slice(1)}`;
  return `${what}: ${data.alert.message}`;
}

/** At most one refetch per key per second however busy the fleet is: the first at once, the rest folded into one. */
const THROTTLE_MS = 1000;

/**
 * Keeps the console live: one EventSource on /api/v1/stream for the active organization; each message
 * invalidates the queries it affects, and notifications (in-app channels, personal notices) are handed
 * to `onNotification` as a sentence. `reset` (missed too much) refreshes everything. A dropped
 * connection is reopened by the browser; one the server closed or refused makes the app check the
 * session first (a revoked session leads to the sign-in page).
 */
export function useLiveUpdates(orgId: string | null, onNotification?: (text: string) => void): LiveState {
  const queryClient = useQueryClient();
  // The latest callback, without reopening the stream when it changes.
  const notify = useRef(onNotification);
  useEffect(() => {
    notify.current = onNotification;
  }, [onNotification]);
  const [attempt, setAttempt] = useState(0);
  // The state of the current connection only: a new organization or attempt starts at 'connecting'.
  const connection = `${orgId}:${attempt}`;
  const [reported, setReported] = useState<{ connection: string; state: LiveState } | null>(null);

  useEffect(() => {
    if (!orgId || typeof EventSource === 'undefined') return;
    const setState = (state: LiveState) => setReported({ connection: `${orgId}:${attempt}`, state });
    const source = new EventSource('/api/v1/stream');
    const last = new Map<string, number>();
    const pending = new Map<string, ReturnType<typeof setTimeout>>();
    let retry: ReturnType<typeof setTimeout> | undefined;

    const invalidate = (key: QueryKey) => {
      const id = JSON.stringify(key);
      if (pending.has(id)) return;
      const wait = Math.max(0, (last.get(id) ?? 0) + THROTTLE_MS - Date.now());
      pending.set(id, setTimeout(() => {
        pending.delete(id);
        last.set(id, Date.now());
        void queryClient.invalidateQueries({ queryKey: key });
      }, wait));
    };

    source.onopen = () => setState('live');
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        // Refused (401/403) rather than dropped: the session may have ended. Check it, then try again later.
        setState('offline');
        void queryClient.invalidateQueries({ queryKey: keys.me });
        retry = setTimeout(() => setAttempt((n) => n + 1), 15_000);
      } else {
        setState('connecting');
      }
    };
    for (const [type, affected] of Object.entries(INVALIDATES)) {
      source.addEventListener(type, () => affected.forEach(invalidate));
    }
    for (const type of ['alert.notification', 'maintenance.reminder']) {
      source.addEventListener(type, (event: MessageEvent<string>) => {
        const text = notificationText(type, JSON.parse(event.data) as NotificationMessage);
        if (text) notify.current?.(text);
      });
    }
    source.addEventListener('reset', () => void queryClient.invalidateQueries());
    source.addEventListener('closed', () => {
      // The server ended the stream (access changed, session revoked, shutdown): check who we are now,
      // then open a new one (unless the session is gone: the app has left for the sign-in page by then).
      source.close();
      setState('connecting');
      void queryClient.invalidateQueries({ queryKey: keys.me });
      retry = setTimeout(() => setAttempt((n) => n + 1), 1000);
    });

    return () => {
      source.close();
      clearTimeout(retry);
      for (const timer of pending.values()) clearTimeout(timer);
    };
  }, [orgId, attempt, queryClient]);

  if (!orgId) return 'offline';
  return reported?.connection === connection ? reported.state : 'connecting';
}
