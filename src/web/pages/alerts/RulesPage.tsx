import { useState } from 'react';
import { Link } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { alertKeys, useRules, type Rule } from '../../api/alerts';
import { api } from '../../api/client';
import { SeverityBadge } from '../../components/alerts/AlertBadges';
import { ConfirmDialog } from '../../components/Dialog';
import { Notice, useNotice } from '../../components/Notice';
import { Pager, useCursorPager } from '../../components/Pager';
import { useSession } from '../../components/session';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { useDisplayContext } from '../../lib/display';
import { KIND_LABELS } from '../../lib/format';
import { useTitle } from '../../lib/title';
import { describeRule } from './rule-draft';
import { RuleDialog } from './RuleDialog';

/** `/alerts/rules`: the organization's alert rules (and the global ones); create, edit, enable, delete. */
export function RulesPage() {
  useTitle('Alert rules');
  const [editing, setEditing] = useState<Rule | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Rule | null>(null);
  const notice = useNotice();
  return (
    <div className="page">
      <nav className="breadcrumbs" aria-label="Breadcrumbs"><Link to="/alerts">Alerts</Link></nav>
      <header className="page-header">
        <div>
          <h1>Alert rules</h1>
          <p className="muted">For one device and metric the most specific scope wins: device, then site, then organization, then global.</p>
        </div>
        <button type="button" className="button button-primary" onClick={() => setEditing('new')}>New rule</button>
      </header>
      <Notice message={notice.message} />
      <RuleTable onEdit={setEditing} onDelete={setDeleting} onCreate={() => setEditing('new')} onNotice={notice.show} />
      {editing && (
        <RuleDialog rule={editing === 'new' ? null : editing} onClose={() => setEditing(null)}
          onSaved={(rule, created) => { setEditing(null); notice.show(created ? `Rule “${rule.name}” created.` : `Rule “${rule.name}” saved.`); }} />
      )}
      {deleting && <DeleteRuleDialog rule={deleting} onClose={() => setDeleting(null)} onDeleted={() => { notice.show(`Rule “${deleting.name}” deleted.`); setDeleting(null); }} />}
    </div>
  );
}

function scopeText(rule: Rule, siteName: (id: string | null) => string | null, deviceName: (id: string) => string): string {
  const kind = rule.deviceKind ? ` · ${KIND_LABELS[rule.deviceKind]} only` : '';
  switch (rule.scope) {
    case 'global': return `Every organization${kind}`;
    case 'organization': return `Organization${kind}`;
    case 'site': return `Site ${siteName(rule.siteId) ?? ''}${kind}`;
    case 'device': return `Device ${rule.deviceId ? deviceName(rule.deviceId) : ''}${kind}`;
  }
}

function RuleTable({ onEdit, onDelete, onCreate, onNotice }: {
  onEdit: (rule: Rule) => void;
  onDelete: (rule: Rule) => void;
  onCreate: () => void;
  onNotice: (message: string) => void;
}) {
  const { me } = useSession();
  const pager = useCursorPager();
  const rules = useRules(pager.cursor);
  const display = useDisplayContext();
  const queryClient = useQueryClient();
  const toggle = useMutation({
    mutationFn: (rule: Rule) => api<Rule>(`/alert-rules/${rule.id}`, { method: 'PATCH', body: { enabled: !rule.enabled } }),
    onSuccess: async (rule) => {
      await queryClient.invalidateQueries({ queryKey: alertKeys.rules });
      onNotice(`Rule “${rule.name}” ${rule.enabled ? 'enabled' : 'disabled'}.`);
    },
  });
  if (rules.isPending) return <LoadingState label="Loading rules…" />;
  if (rules.isError) return <ErrorState title="Rules could not be loaded" error={rules.error} onRetry={() => void rules.refetch()} />;
  const { items, nextCursor } = rules.data;
  if (items.length === 0) {
    return (
      <EmptyState title="No alert rules yet">
        <p>A rule watches a metric (or silence) on some devices and raises an alert when it is out of bounds for long enough.</p>
        <button type="button" className="button button-primary" onClick={onCreate}>New rule</button>
      </EmptyState>
    );
  }
  const deviceName = (id: string) => display.devices.find((d) => d.id === id)?.name ?? 'device';
  const writable = (rule: Rule) => rule.scope !== 'global' || me.user.isSuperadmin;
  return (
    <>
      {toggle.error && <p className="form-error" role="alert">{toggle.error.message}</p>}
      <div className="table-wrap" role="region" aria-label="Alert rules" tabIndex={0}>
        <table className="table" aria-busy={rules.isPlaceholderData || undefined}>
          <thead>
            <tr>
              <th scope="col">Rule</th>
              <th scope="col">Severity</th>
              <th scope="col" className="hide-narrow">Applies to</th>
              <th scope="col">Enabled</th>
              <th scope="col"><span className="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {items.map((rule) => (
              <tr key={rule.id}>
                <td>{rule.name}<div className="rule-summary">{describeRule(rule)}</div></td>
                <td><SeverityBadge severity={rule.severity} /></td>
                <td className="hide-narrow">{scopeText(rule, display.siteName, deviceName)}</td>
                <td>
                  <label className="toggle">
                    <input type="checkbox" checked={rule.enabled} disabled={!writable(rule) || toggle.isPending} onChange={() => toggle.mutate(rule)} />
                    <span>{rule.enabled ? 'On' : 'Off'}</span>
                    <span className="visually-hidden"> — {rule.name}</span>
                  </label>
                </td>
                <td>
                  {writable(rule) && (
                    <div className="row-actions">
                      <button type="button" className="button button-small" onClick={() => onEdit(rule)} aria-label={`Edit ${rule.name}`}>Edit</button>
                      <button type="button" className="button button-small button-danger" onClick={() => onDelete(rule)} aria-label={`Delete ${rule.name}`}>Delete</button>
                    </div>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager label="Rule pages" page={pager.page} nextCursor={nextCursor} onNext={pager.next} onPrevious={pager.previous} busy={rules.isPlaceholderData} />
    </>
  );
}

function DeleteRuleDialog({ rule, onClose, onDeleted }: { rule: Rule; onClose: () => void; onDeleted: () => void }) {
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: () => api<void>(`/alert-rules/${rule.id}`, { method: 'DELETE' }),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: alertKeys.rules });
      await queryClient.invalidateQueries({ queryKey: alertKeys.alerts });
      onDeleted();
    },
  });
  return (
    <ConfirmDialog title={`Delete “${rule.name}”?`} confirmLabel="Delete rule" busy={remove.isPending} error={remove.error} onConfirm={() => remove.mutate()} onClose={onClose}>
      <p>Its open alerts are resolved; its past alerts stay in the history.</p>
    </ConfirmDialog>
  );
}
