import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import type { SmtpConfig } from './config.js';

export interface Email {
  to: string;
  subject: string;
  text: string;
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

  /**
   * Never throws: a failure is logged with the text. Returns false only when the SMTP server refused or
   * could not be reached, for callers that retry later (without SMTP the log is the delivery).
   */
  async send(email: Email): Promise<boolean> {
    if (!this.transport || !this.smtp) {
      this.logger.warn({ to: email.to, subject: email.subject }, `SMTP is not configured; email not sent:\n${email.text}`);
      return true;
    }
    try {
      await this.transport.sendMail({ from: this.smtp.from, ...email });
      return true;
    } catch (error) {
      this.logger.error({ err: error, to: email.to, subject: email.subject }, `could not send email:\n${email.text}`);
      return false;
    }
  }
}
