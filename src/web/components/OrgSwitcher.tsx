import { useId, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { useLocation, useNavigate } from 'react-router';
import { api } from '../api/client';
import { useSession } from './session';

/**
 * Chooses the organization the session acts in (POST /auth/switch-organization). Every cached answer
 * belonged to the previous organization, so all of them are dropped and the current section reloads.
 */
export function OrgSwitcher({ className }: { className?: string }) {
  const { me, organization } = useSession();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const location = useLocation();
  const id = useId();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  // A platform administrator may have entered an organization they are not a member of.
  const choices = organization && !me.organizations.some((o) => o.id === organization.id) ? [...me.organizations, organization] : me.organizations;
  if (choices.length === 0) return null;
  if (choices.length === 1 && organization) {
    return (
      <div className={`org-switcher ${className ?? ''}`}>
        <span className="org-name" title="Organization">{organization.name}</span>
      </div>
    );
  }

  const change = async (organizationId: string) => {
    setBusy(true);
    setError(null);
    try {
      await api('/auth/switch-organization', { method: 'POST', body: { organizationId } });
      // A detail page of the old organization means nothing in the new one: go to its section.
      const section = location.pathname.split('/')[1] || 'dashboard';
      await navigate(`/${section === 'admin' ? 'dashboard' : section}`);
      await queryClient.resetQueries();
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : 'The organization could not be changed.');
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className={`org-switcher ${className ?? ''}`}>
      <label htmlFor={id} className="visually-hidden">Organization</label>
      <select id={id} value={organization?.id ?? ''} onChange={(e) => void change(e.target.value)} disabled={busy} aria-describedby={error ? `${id}-error` : undefined}>
        {!organization && <option value="">Choose an organization</option>}
        {choices.map((o) => (
          <option key={o.id} value={o.id}>
            {o.name}
          </option>
        ))}
      </select>
      {error && <span id={`${id}-error`} className="field-error" role="alert">{error}</span>}
    </div>
  );
}
