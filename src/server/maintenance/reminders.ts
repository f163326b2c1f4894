import type { Tx } from '../core/db/database.js';
import type { Notifier } from '../alerts/notifier.js';

/** One maintenance reminder: a device whose next maintenance is due soon or overdue. */
export interface MaintenanceReminder {
  orgId: string;
  orgName: string;
  recordId: string;
  deviceId: string;
  deviceName: string;
  serial: string;
  siteId: string | null;
  siteName: string | null;
  /** 'YYYY-MM-DD' */
  dueOn: string;
  /** Negative when overdue. */
  daysUntilDue: number;
  lastPerformedBy: string;
}

export interface ReminderSettings {
  reminderDays: number;
  /** null: every enabled notification channel of the organization. */
  channelIds: string[] | null;
}

/** Where reminders go: the organization's notification channels (the alerting domain's notifier). */
export interface ReminderSender {
  /** Queues the reminder in `tx`, the transaction that records it as sent. */
  queue(tx: Tx, reminder: MaintenanceReminder, channelIds: string[] | null): Promise<void>;
  /** Delivers what was queued (after the commit); failures are retried by the notification outbox. */
  deliver(): Promise<void>;
  /** Those of `ids` that are not notification channels of the organization. */
  unknownChannels(orgId: string, ids: string[]): Promise<string[]>;
}

export function reminderText(reminder: MaintenanceReminder, publicUrl: string) {
  const when = reminder.daysUntilDue < 0
    ? `was due on ${reminder.dueOn} (${-reminder.daysUntilDue} day(s) overdue)`
    : reminder.daysUntilDue === 0 ? `is due today (${reminder.dueOn})` : `is due on ${reminder.dueOn} (in ${reminder.daysUntilDue} day(s))`;
  const where = reminder.siteName ? ` at ${reminder.siteName}` : '';
  return {
    subject: `Maintenance ${reminder.daysUntilDue < 0 ? 'overdue' : 'due'}: ${reminder.deviceName}`,
    text: [
      `The next maintenance of ${reminder.deviceName} (serial ${reminder.serial})${where} ${when}.`,
      `It was last serviced by ${reminder.lastPerformedBy}.`,
      '',
      `Device: ${publicUrl}/devices/${reminder.deviceId}`,
      `Everything due in ${reminder.orgName}: ${publicUrl}/maintenance`,
    ].join('\n'),
  };
}

/**
 * Reminders through the notification channels, as notices: email channels get the text below, webhooks
 * the JSON (with `maintenance`), in-app channels a `maintenance.reminder` message; digest channels
 * include them in their next digest.
 */
export class ChannelReminderSender implements ReminderSender {
  constructor(private readonly notifier: Notifier, private readonly publicUrl: string) {}

  async queue(tx: Tx, reminder: MaintenanceReminder, channelIds: string[] | null): Promise<void> {
    const { subject, text } = reminderText(reminder, this.publicUrl);
    const { orgId, orgName, ...maintenance } = reminder;
    await this.notifier.queueNotice(tx, orgId, channelIds, {
      event: reminder.daysUntilDue < 0 ? 'maintenance.overdue' : 'maintenance.due',
      organizationId: orgId,
      notice: { subject, text, siteId: reminder.siteId, deviceId: reminder.deviceId, deviceName: reminder.deviceName },
      maintenance: { ...maintenance, organizationName: orgName },
      sentBy: 'vigil',
    });
  }

  async deliver(): Promise<void> {
    await this.notifier.deliverDue();
  }

  unknownChannels(orgId: string, ids: string[]): Promise<string[]> {
    return this.notifier.unknownChannels(orgId, ids);
  }
}
