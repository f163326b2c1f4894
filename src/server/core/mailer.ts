import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import type { SmtpConfig } from './config.js';

export interface Email {
  to: string;
  subject: string;
  text: string;
  /** Files sent with the message (e.g. a scheduled report's PDF). */
  attachments?: { filename: string; content: Buffer; contentType: string }[];
  /** An HTML alternative (e.g. a digest's table); `text` stays the plain version. */
  html?: string;
}

/**
 * Sends mail through SMTP when it is configured. Without SMTP the message is written to the log so
 * that an administrator can still pass on an invitation or reset link.
 */
export class Mailer {
  private readonly transport?: Transporter;

  constructor(private readonly logger: Logger, private readonly smtp?: SmtpConfig) {
    if (smtp) {
      this.transport = nodemailer.createTransport({
        host: smtp.host,
        port: smtp.port,
        secure: smtp.secure,
        auth: smtp.user ? { user: smtp.user, pass: smtp.password ?? '' } : undefined,
      });
    }
  }

  /** Whether mail really leaves the server (SMTP is configured). */
  get configured(): boolean {
    return this.transport !== undefined;
  }

  /** Sends, throwing on failure: for callers that retry (the alert notification outbox). */
  async deliver(email: Email): Promise<void> {
    if (!this.transport || !this.smtp) throw new Error('SMTP is not configured (SMTP_HOST, SMTP_FROM)');
    await this.transport.sendMail({ from: this.smtp.from, ...email });
  }

  async send(email: Email): Promise<void> {
    if (!this.transport || !this.smtp) {
      this.logger.warn({ to: email.to, subject: email.subject }, `SMTP is not configured; email not sent:\n${email.text}`);
      return;
    }
    try {
      await this.transport.sendMail({ from: this.smtp.from, ...email });
    } catch (error) {
      this.logger.error({ err: error, to: email.to, subject: email.subject }, `could not send email:\n${email.text}`);
    }
  }
}
