import type { Mailer } from '../core/mailer.js';

/** One maintenance reminder: a device whose next maintenance is due soon or overdue. */
export interface MaintenanceReminder {
  orgId: string;
  orgName: string;
  recordId: string;
  deviceId: string;
  deviceName: string;
  serial: string;
  siteName: string | null;
  /** 'YYYY-MM-DD' */
  dueOn: string;
  /** Negative when overdue. */
  daysUntilDue: number;
  lastPerformedBy: string;
}

/**
 * Delivers reminders. Kept to one method so that reminders can go through the organization's
 * notification channels once they exist, in place of plain email to its admins.
 */
export interface ReminderSender {
  send(reminder: MaintenanceReminder): Promise<void>;
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

/** Email to the organization's active owners and admins. */
export class EmailReminderSender implements ReminderSender {
  constructor(
    private readonly mailer: Mailer,
    private readonly recipients: (orgId: string) => Promise<string[]>,
    private readonly publicUrl: string,
  ) {}

  /**
   * Throws when the SMTP server did not take a message, so the reminder is tried again later. Without
   * SMTP the reminder is written to the log, which counts as sent (there is nothing to retry).
   */
  async send(reminder: MaintenanceReminder): Promise<void> {
    const { subject, text } = reminderText(reminder, this.publicUrl);
    for (const to of await this.recipients(reminder.orgId)) {
      if (this.mailer.configured) await this.mailer.deliver({ to, subject, text });
      else await this.mailer.send({ to, subject, text });
    }
  }
}
