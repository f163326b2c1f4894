import { useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { ApiError } from '../api/client';
import { createReport, deleteReport, reportFileUrl, reportKeys, useReports, type Report, type ReportInput, type ReportKind } from '../api/reports';
import { ConfirmDialog, Dialog } from '../components/Dialog';
import { Notice, useNotice } from '../components/Notice';
import { Pager, useCursorPager } from '../components/Pager';
import { useSession } from '../components/session';
import { EmptyState, ErrorState, LoadingState } from '../components/states';
import { TextField } from '../components/TextField';
import { KIND_LABELS, ReportSubjectFields } from './ReportSubjectFields';
import { may } from '../lib/access';
import { useDisplayContext } from '../lib/display';
import { formatTime } from '../lib/format';
import { useTitle } from '../lib/title';
import { ScheduleSection } from './ReportSchedules';
import './ReportsPage.css';

const STATUS_LABELS: Record<Report['status'], string> = { queued: 'Queued', running: 'Running', done: 'Ready', failed: 'Failed' };

/** `/reports`: generated reports with live progress, a dialog to request one, and downloads. */
export function ReportsPage() {
  useTitle('Reports');
  const { me } = useSession();
  const canWrite = may(me, 'report.write');
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Report | null>(null);
  const notice = useNotice();
  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Reports</h1>
          <p className="muted">Speed studies for authorities, temperature compliance records for inspections and site-safety records of camera violations, as PDF and CSV.</p>
        </div>
        {canWrite && <button type="button" className="button button-primary" onClick={() => setCreating(true)}>New report</button>}
      </header>
      <Notice message={notice.message} />
      <ReportTable canWrite={canWrite} onDelete={setDeleting} onCreate={() => setCreating(true)} />
      <ScheduleSection canWrite={may(me, 'report.schedule')} />
      {creating && <CreateReportDialog onClose={() => setCreating(false)} onCreated={(r) => { setCreating(false); notice.show(`“${r.title}” is being prepared.`); }} />}
      {deleting && <DeleteReportDialog report={deleting} onClose={() => setDeleting(null)} onDeleted={() => { notice.show(`“${deleting.title}” deleted.`); setDeleting(null); }} />}
    </div>
  );
}

function ReportTable({ canWrite, onDelete, onCreate }: { canWrite: boolean; onDelete: (r: Report) => void; onCreate: () => void }) {
  const pager = useCursorPager();
  const reports = useReports(pager.cursor);
  const display = useDisplayContext();
  if (reports.isPending) return <LoadingState label="Loading reports…" />;
  if (reports.isError) return <ErrorState title="Reports could not be loaded" error={reports.error} onRetry={() => void reports.refetch()} />;
  const { items, nextCursor } = reports.data;
  if (items.length === 0) {
    return (
      <EmptyState title="No reports yet">
        <p>A report summarizes a device or a site over a period; it is kept here to download again.</p>
        {canWrite && <button type="button" className="button button-primary" onClick={onCreate}>New report</button>}
      </EmptyState>
    );
  }
  return (
    <>
      <div className="table-wrap" role="region" aria-label="Reports" tabIndex={0}>
        <table className="table" aria-busy={reports.isPlaceholderData || undefined}>
          <thead>
            <tr>
              <th scope="col">Report</th>
              <th scope="col" className="hide-narrow">Requested</th>
              <th scope="col">Status</th>
              <th scope="col"><span className="visually-hidden">Downloads and actions</span></th>
            </tr>
          </thead>
          <tbody>
            {items.map((report) => (
              <tr key={report.id}>
                <td>
                  <div>{report.title}</div>
                  <div className="muted small">{KIND_LABELS[report.kind]}{report.parameters.notes ? ` · ${report.parameters.notes}` : ''}</div>
                </td>
                <td className="hide-narrow">
                  <div>{formatTime(report.requestedAt, display.zoneFor(report.siteId))}</div>
                  <div className="muted small">{report.schedule ? `Schedule: ${report.schedule.name ?? ''}` : report.requestedBy?.label ?? '—'}</div>
                </td>
                <td><ReportStatus report={report} /></td>
                <td>
                  <div className="row-actions">
                    {report.files.pdf && <a className="button button-small" href={reportFileUrl(report.id, 'pdf')} download aria-label={`Download ${report.title} as PDF`}>PDF</a>}
                    {report.files.csv && <a className="button button-small" href={reportFileUrl(report.id, 'csv')} download aria-label={`Download the figures of ${report.title} as CSV`}>CSV</a>}
                    {report.files.events && <a className="button button-small hide-narrow" href={reportFileUrl(report.id, 'events')} download aria-label={`Download Events: every vehicle of ${report.title} as CSV`}>Events</a>}
                    {canWrite && <button type="button" className="button button-small button-danger" onClick={() => onDelete(report)} aria-label={`Delete ${report.title}`}>Delete</button>}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager label="Report pages" page={pager.page} nextCursor={nextCursor} onNext={pager.next} onPrevious={pager.previous} busy={reports.isPlaceholderData} />
    </>
  );
}

function ReportStatus({ report }: { report: Report }) {
  if (report.status === 'failed') return <span className="report-status report-failed" title={report.error ?? undefined}>{STATUS_LABELS.failed}{report.error ? `: ${report.error}` : ''}</span>;
  if (report.status === 'done') return <span className="report-status report-done">{STATUS_LABELS.done}</span>;
  return (
    <div className="report-status">
      <span>{STATUS_LABELS[report.status]}</span>
      <progress className="report-progress" max={100} value={report.progress} aria-label={`${report.title}: ${report.progress}% done`}>{report.progress}%</progress>
    </div>
  );
}

/** YYYY-MM-DD of `days` ago, in the browser's zone: the dialog's default period is the last 7 whole days. */
function daysAgo(days: number): string {
  const date = new Date(Date.now() - days * 86_400_000);
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
}

function CreateReportDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (r: Report) => void }) {
  const queryClient = useQueryClient();
  const [kind, setKind] = useState<ReportKind>('speed_study');
  const [subject, setSubject] = useState('');
  const [from, setFrom] = useState(daysAgo(7));
  const [to, setTo] = useState(daysAgo(1));
  const [notes, setNotes] = useState('');

  const create = useMutation({
    mutationFn: (input: ReportInput) => createReport(input),
    onSuccess: async (report) => {
      await queryClient.invalidateQueries({ queryKey: reportKeys.all });
      onCreated(report);
    },
  });
  const serverError = create.error instanceof ApiError ? create.error : null;
  const fieldError = (field: string) => serverError?.fieldMessage(field);
  const subjectError = fieldError('deviceId') ?? fieldError('siteId');
  const otherError = create.error && !(serverError && serverError.details.some((d) => ['deviceId', 'siteId', 'from', 'to', 'notes'].includes(d.field))) ? create.error : null;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const [type, id] = subject.split(':');
    create.mutate({ kind, from, to, ...(type === 'site' ? { siteId: id } : type === 'device' ? { deviceId: id } : {}), ...(kind === 'speed_study' && notes.trim() ? { notes: notes.trim() } : {}) });
  };

  return (
    <Dialog title="New report" onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <ReportSubjectFields idPrefix="report" kind={kind} onKind={setKind} subject={subject} onSubject={setSubject} error={subjectError} />
        <div className="field-row">
          <TextField id="report-from" label="From (first day)" type="date" value={from} onChange={(e) => setFrom(e.target.value)} error={fieldError('from')} />
          <TextField id="report-to" label="To (last day)" type="date" value={to} onChange={(e) => setTo(e.target.value)} error={fieldError('to')} />
        </div>
        {kind === 'speed_study' && (
          <TextField id="report-notes" label="Calibration and notes" value={notes} maxLength={2000} onChange={(e) => setNotes(e.target.value)} error={fieldError('notes')} hint="Printed on the title page, e.g. the last calibration date." />
        )}
        {otherError && <p className="form-error" role="alert">{otherError.message}</p>}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="button button-primary" disabled={create.isPending}>{create.isPending ? 'Requesting…' : 'Create report'}</button>
        </div>
      </form>
    </Dialog>
  );
}

function DeleteReportDialog({ report, onClose, onDeleted }: { report: Report; onClose: () => void; onDeleted: () => void }) {
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: () => deleteReport(report.id),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: reportKeys.all });
      onDeleted();
    },
  });
  return (
    <ConfirmDialog title={`Delete ${report.title}?`} confirmLabel="Delete report" busy={remove.isPending} error={remove.error} onConfirm={() => remove.mutate()} onClose={onClose}>
      <p>The PDF and CSV files are deleted too. This is recorded in the audit log.</p>
    </ConfirmDialog>
  );
}
