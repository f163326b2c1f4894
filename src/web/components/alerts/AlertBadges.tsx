import { SEVERITY_ICONS, SEVERITY_LABELS, STATUS_LABELS, type AlertStatus, type Severity } from '../../api/alerts';
import '../../pages/alerts/alerts.css';

/** A severity as a glyph, a word and a colour: readable without the colour. */
export function SeverityBadge({ severity }: { severity: Severity }) {
  return (
    <span className={`severity severity-${severity}`}>
      <span className="severity-icon" aria-hidden="true">{SEVERITY_ICONS[severity]}</span>
      {SEVERITY_LABELS[severity]}
    </span>
  );
}

const STATUS_ICONS: Record<AlertStatus, string> = { open: '●', acknowledged: '◐', resolved: '✓' };

export function AlertStatusBadge({ status }: { status: AlertStatus }) {
  return (
    <span className={`alert-status alert-status-${status}`}>
      <span aria-hidden="true">{STATUS_ICONS[status]}</span>
      {STATUS_LABELS[status]}
    </span>
  );
}
