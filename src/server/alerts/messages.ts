import { DateTime } from 'luxon';
import type { Email } from '../core/mailer.js';
import type { PresentedAlert } from './present.js';

/**
 * What the notification channels carry (the outbox payloads, also the webhook bodies) and how each
 * reads as an email. Three kinds: one alert's change, a notice from another domain (a maintenance
 * reminder), and a digest listing what a channel collected over its window.
 */
export interface AlertPayload {
  event: string;
  organizationId: string;
  alert: PresentedAlert;
  sentBy: 'vigil';
}

/** A notification that is not about an alert: it brings its own words, and its own data for webhooks. */
export interface NoticePayload {
  event: string;
  organizationId: string;
  notice: { subject: string; text: string; siteId: string | null; deviceId: string | null; deviceName: string | null };
  /** The domain's own data, e.g. `maintenance` for a maintenance reminder. */
  [key: string]: unknown;
}

export interface DigestAlert extends PresentedAlert {
  deviceName: string;
  /** What happened to the alert during the window, in order (`alert.opened`, `alert.resolved`, …). */
  events: string[];
  link: string;
}

export interface DigestPayload {
  event: 'digest';
  organizationId: string;
  channel: { id: string; name: string };
  period: { from: string; to: string };
  alerts: DigestAlert[];
  notices: (NoticePayload['notice'] & { event: string; createdAt: string })[];
  sentBy: 'vigil';
}

export type Payload = AlertPayload | NoticePayload | DigestPayload;

export const isDigest = (payload: Payload): payload is DigestPayload => payload.event === 'digest';
export const isNotice = (payload: Payload): payload is NoticePayload => 'notice' in payload;

const base = (publicUrl: string) => publicUrl.replace(/\/$/, '');
export const alertLink = (publicUrl: string, alertId: string) => `${base(publicUrl)}/alerts/${alertId}`;

/** Blank lines collapsed: optional lines leave no gaps. */
const lines = (all: string[]) => all.filter((line, i) => line !== '' || all[i - 1] !== '').join('\n');

export function alertEmail(payload: AlertPayload, publicUrl: string): Omit<Email, 'to'> {
  const { alert, event } = payload;
  const what = event === 'alert.resolved' ? 'Resolved' : event === 'alert.escalated' ? 'Escalated' : alert.severity.toUpperCase();
  return {
    subject: `[Vigil] ${what}: ${alert.message}`,
    text: lines([
      alert.message, '',
      `Rule: ${alert.ruleName}`, `Severity: ${alert.severity}`, `Status: ${alert.status}`,
      `Started: ${alert.startedAt}`,
      alert.latestText !== null ? `Latest value: ${alert.latestText}` : `Latest value: ${alert.latestValue ?? '–'} (peak ${alert.peakValue ?? '–'})`,
      alert.resolvedAt ? `Resolved: ${alert.resolvedAt}` : '',
      '', alertLink(publicUrl, alert.id),
    ]),
  };
}

export function noticeEmail(payload: NoticePayload): Omit<Email, 'to'> {
  return { subject: `[Vigil] ${payload.notice.subject}`, text: payload.notice.text };
}

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** One email for a whole digest: a table of the alerts (plain text and HTML) and the other notices. */
export function digestEmail(payload: DigestPayload, publicUrl: string, zone: string): Omit<Email, 'to'> {
  const time = (iso: string | null) => (iso ? DateTime.fromISO(iso, { zone }).toFormat('yyyy-LL-dd HH:mm') : '–');
  const count = payload.alerts.length + payload.notices.length;
  const header = ['Severity', 'Device', 'Message', 'Opened', 'Acknowledged', 'Resolved'];
  const rows = payload.alerts.map((a) => [a.severity, a.deviceName, a.message, time(a.openedAt), time(a.acknowledgedAt), time(a.resolvedAt)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const textRow = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const period = `${time(payload.period.from)} – ${time(payload.period.to)} (${zone})`;
  const text = lines([
    `${count} notification(s) for "${payload.channel.name}", ${period}.`, '',
    ...(rows.length > 0 ? [textRow(header), textRow(widths.map((w) => '-'.repeat(w))), ...rows.map(textRow), '',
      ...payload.alerts.map((a) => `${a.message}: ${a.link}`), ''] : []),
    ...payload.notices.flatMap((n) => [n.subject, n.text, '']),
    `All alerts: ${base(publicUrl)}/alerts`,
  ]);
  const cell = (tag: string, value: string) => `<${tag} style="text-align:left;padding:4px 8px;border-bottom:1px solid #ddd">${value}</${tag}>`;
  const html = [
    `<p>${escapeHtml(`${count} notification(s) for "${payload.channel.name}", ${period}.`)}</p>`,
    rows.length > 0 ? `<table style="border-collapse:collapse;font-family:sans-serif;font-size:14px"><thead><tr>${header.map((h) => cell('th', h)).join('')}</tr></thead><tbody>${
      payload.alerts.map((a, i) => `<tr>${rows[i]!.map((value, column) => cell('td', column === 2 ? `<a href="${escapeHtml(a.link)}">${escapeHtml(value)}</a>` : escapeHtml(value))).join('')}</tr>`).join('')
    }</tbody></table>` : '',
    ...payload.notices.map((n) => `<p><strong>${escapeHtml(n.subject)}</strong><br>${escapeHtml(n.text).replace(/\n/g, '<br>')}</p>`),
    `<p><a href="${escapeHtml(`${base(publicUrl)}/alerts`)}">All alerts in Vigil</a></p>`,
  ].join('\n');
  return { subject: `[Vigil] Digest: ${count} notification(s) for ${payload.channel.name}`, text, html };
}
