import { useState, type FormEvent } from 'react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError } from '../api/client';
import type { Page } from '../api/types';
import { EventTime } from './EventTime';
import { Notice, useNotice } from './Notice';
import { Pager, useCursorPager } from './Pager';
import { EmptyState, ErrorState, LoadingState } from './states';
import { TextField } from './TextField';

type AttributeScope = 'client' | 'shared';

interface Attribute {
  scope: AttributeScope;
  key: string;
  value: unknown;
  updatedAt: string;
}

const attributeKeys = (deviceId: string) => ['devices', deviceId, 'attributes'] as const;

/** Text as sent, anything else (numbers, booleans, JSON) as JSON text. */
function shown(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** What a member types: JSON when it is JSON (42, true, {"a":1}, "quoted"), else the text itself. */
function typedValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * A device's attributes: what the device reports about itself (firmware version, IP…) and the shared
 * attributes members set for it, which reach the device over MQTT as soon as they change. Members who may
 * change the device add, edit and delete shared attributes.
 */
export function DeviceAttributes({ deviceId, deviceName, zone, canEdit }: { deviceId: string; deviceName: string; zone: string; canEdit: boolean }) {
  const notice = useNotice();
  const [editing, setEditing] = useState<{ key: string; value: string } | null>(null);
  return (
    <section className="panel" aria-labelledby="attributes-heading">
      <h2 id="attributes-heading">Attributes</h2>
      <Notice message={notice.message} />
      <AttributeTable deviceId={deviceId} deviceName={deviceName} scope="client" zone={zone} />
      <AttributeTable deviceId={deviceId} deviceName={deviceName} scope="shared" zone={zone} canEdit={canEdit} onEdit={setEditing} onResult={notice.show} />
      {canEdit && <SharedAttributeForm key={editing?.key ?? ''} deviceId={deviceId} initial={editing} onDone={(message) => { setEditing(null); notice.show(message); }} />}
    </section>
  );
}

function AttributeTable({ deviceId, deviceName, scope, zone, canEdit = false, onEdit, onResult }: {
  deviceId: string;
  deviceName: string;
  scope: AttributeScope;
  zone: string;
  canEdit?: boolean;
  onEdit?: (attribute: { key: string; value: string }) => void;
  onResult?: (message: string) => void;
}) {
  const queryClient = useQueryClient();
  const pager = useCursorPager();
  const list = useQuery({
    queryKey: [...attributeKeys(deviceId), scope, pager.cursor],
    queryFn: ({ signal }) => api<Page<Attribute>>(`/devices/${encodeURIComponent(deviceId)}/attributes`, { query: { scope, cursor: pager.cursor, limit: 50 }, signal }),
    placeholderData: keepPreviousData,
  });
  const remove = useMutation({
    mutationFn: (key: string) => api<null>(`/devices/${encodeURIComponent(deviceId)}/attributes/shared/${encodeURIComponent(key)}`, { method: 'DELETE' }),
    onSuccess: (_result, key) => onResult?.(`${key} deleted; the device is told if it is connected.`),
    onSettled: () => queryClient.invalidateQueries({ queryKey: attributeKeys(deviceId) }),
  });
  const title = scope === 'client' ? 'Reported by the device' : 'Shared with the device';

  let body;
  if (list.isPending) body = <LoadingState label={`Loading ${title.toLowerCase()}…`} />;
  else if (list.isError) body = <ErrorState title="Attributes could not be loaded" error={list.error} onRetry={() => void list.refetch()} />;
  else if (list.data.items.length === 0) {
    body = (
      <EmptyState title={scope === 'client' ? 'Nothing reported yet' : 'No shared attributes'}>
        <p>{scope === 'client'
          ? 'Devices report their firmware version, IP address and the like on v1/devices/me/attributes or POST /api/v1/{key}/attributes.'
          : 'Settings for the device, such as a safe temperature range or a reporting interval; it receives them on v1/devices/me/attributes.'}</p>
      </EmptyState>
    );
  } else {
    body = (
      <>
        <div className="table-wrap" role="region" aria-label={`${title}: attributes of ${deviceName}`} tabIndex={0}>
          <table className="table" aria-busy={list.isPlaceholderData || undefined}>
            <thead>
              <tr><th scope="col">Key</th><th scope="col">Value</th><th scope="col">Updated</th>{canEdit && <th scope="col"><span className="visually-hidden">Actions</span></th>}</tr>
            </thead>
            <tbody>
              {list.data.items.map((a) => (
                <tr key={a.key}>
                  <td className="mono">{a.key}</td>
                  <td className={typeof a.value === 'string' ? undefined : 'mono'}>{shown(a.value)}</td>
                  <td><EventTime iso={a.updatedAt} zone={zone} /></td>
                  {canEdit && (
                    <td className="row-actions">
                      <button type="button" className="button" onClick={() => onEdit?.({ key: a.key, value: JSON.stringify(a.value) })} aria-label={`Edit ${a.key}`}>Edit</button>
                      <button type="button" className="button" disabled={remove.isPending} onClick={() => remove.mutate(a.key)} aria-label={`Delete ${a.key}`}>Delete</button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <Pager label={`${title} pages`} page={pager.page} nextCursor={list.data.nextCursor} onNext={pager.next} onPrevious={pager.previous} busy={list.isPlaceholderData} />
      </>
    );
  }
  return (
    <>
      <h3>{title}</h3>
      {body}
      {remove.isError && <p className="form-error" role="alert">{remove.error.message}</p>}
    </>
  );
}

function SharedAttributeForm({ deviceId, initial, onDone }: { deviceId: string; initial: { key: string; value: string } | null; onDone: (message: string) => void }) {
  const queryClient = useQueryClient();
  const [key, setKey] = useState(initial?.key ?? '');
  const [value, setValue] = useState(initial?.value ?? '');
  const save = useMutation({
    mutationFn: () => api<{ keys: string[] }>(`/devices/${encodeURIComponent(deviceId)}/attributes/shared`, { method: 'PUT', body: { [key.trim()]: typedValue(value) } }),
    onSuccess: () => onDone(`${key.trim()} saved; the device receives it if it is connected.`),
    onSettled: () => queryClient.invalidateQueries({ queryKey: attributeKeys(deviceId) }),
  });
  const problem = save.error instanceof ApiError ? (save.error.details[0]?.message ?? save.error.message) : save.error?.message;

  function submit(event: FormEvent) {
    event.preventDefault();
    save.mutate();
  }

  return (
    <form onSubmit={submit} noValidate aria-label={initial ? `Edit ${initial.key}` : 'Add a shared attribute'}>
      <div className="field-row">
        <TextField id="attribute-key" label="Key" value={key} onChange={(e) => setKey(e.target.value)} required maxLength={256}
          autoComplete="off" placeholder="safeRangeMax" readOnly={initial !== null} />
        <TextField id="attribute-value" label="Value" value={value} onChange={(e) => setValue(e.target.value)} required autoComplete="off"
          placeholder="8" hint='A number, true/false, JSON such as {"min": 2}, or text.' error={problem} />
      </div>
      <div className="row-actions">
        <button type="submit" className="button button-primary" disabled={save.isPending || key.trim() === '' || value.trim() === ''}>
          {initial ? 'Save attribute' : 'Add attribute'}
        </button>
        {initial && <button type="button" className="button" onClick={() => onDone('')}>Cancel</button>}
      </div>
    </form>
  );
}
