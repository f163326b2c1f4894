import { useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { ApiError } from '../../api/client';
import { COMMAND_STATUS_LABELS, commandKeys, sendCommand, useDeviceCommands, type CommandStatus, type DeviceCommand } from '../../api/commands';
import { may } from '../../lib/access';
import { EventTime } from '../EventTime';
import { Notice, useNotice } from '../Notice';
import { Pager, useCursorPager } from '../Pager';
import { useSession } from '../session';
import { EmptyState, ErrorState, LoadingState } from '../states';
import { TextField } from '../TextField';
import './commands.css';

const DEFAULT_TIMEOUT = { twoWay: 30, oneWay: 86_400 };
const BAD: ReadonlySet<CommandStatus> = new Set(['failed', 'timed_out', 'expired']);

/** JSON shown in one line, shortened: the history stays readable on a phone. */
function shortJson(value: unknown, max = 120): string {
  const text = JSON.stringify(value) ?? '';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * A device's commands (RPC): members who may change the device send one (method, JSON params, wait for the
 * answer or not, timeout), and everyone sees the history with each command's status and answer, kept live
 * by the stream.
 */
export function CommandsSection({ deviceId, deviceName, zone }: { deviceId: string; deviceName: string; zone: string }) {
  const { me } = useSession();
  const canSend = may(me, 'device.write');
  const pager = useCursorPager();
  const history = useDeviceCommands(deviceId, pager.cursor);
  const notice = useNotice();

  let body;
  if (history.isPending) body = <LoadingState label="Loading commands…" />;
  else if (history.isError) body = <ErrorState title="Commands could not be loaded" error={history.error} onRetry={() => void history.refetch()} />;
  else if (history.data.items.length === 0) {
    body = (
      <EmptyState title="No commands sent yet">
        <p>Commands go to the device over MQTT (v1/devices/me/rpc/request/+) or its HTTP poll; their answers appear here.</p>
      </EmptyState>
    );
  } else {
    body = (
      <>
        <div className="table-wrap" role="region" aria-label={`Commands sent to ${deviceName}`} tabIndex={0}>
          <table className="table" aria-busy={history.isPlaceholderData || undefined}>
            <thead>
              <tr><th scope="col">Sent</th><th scope="col">Method</th><th scope="col">Status</th><th scope="col">Answer</th><th scope="col">By</th></tr>
            </thead>
            <tbody>
              {history.data.items.map((c) => <CommandRow key={c.id} command={c} zone={zone} />)}
            </tbody>
          </table>
        </div>
        <Pager label="Command pages" page={pager.page} nextCursor={history.data.nextCursor} onNext={pager.next} onPrevious={pager.previous} busy={history.isPlaceholderData} />
      </>
    );
  }

  return (
    <section className="panel" aria-labelledby="commands-heading">
      <h2 id="commands-heading">Commands</h2>
      <Notice message={notice.message} />
      {canSend && <SendCommandForm deviceId={deviceId} onResult={notice.show} />}
      {body}
    </section>
  );
}

function CommandRow({ command: c, zone }: { command: DeviceCommand; zone: string }) {
  const answer = c.error ?? (c.response !== null ? shortJson(c.response) : c.twoWay ? '—' : 'One-way');
  return (
    <tr>
      <td><EventTime iso={c.createdAt} zone={zone} /></td>
      <td>
        <span className="mono">{c.method}</span>
        <div className="muted mono" title={JSON.stringify(c.params)}>{shortJson(c.params, 60)}</div>
      </td>
      <td>{BAD.has(c.status) ? <span className="badge badge-danger">{COMMAND_STATUS_LABELS[c.status]}</span> : COMMAND_STATUS_LABELS[c.status]}</td>
      <td className={c.response !== null ? 'mono' : undefined}>{answer}</td>
      <td>{c.createdByLabel ?? '—'}</td>
    </tr>
  );
}

function SendCommandForm({ deviceId, onResult }: { deviceId: string; onResult: (message: string) => void }) {
  const queryClient = useQueryClient();
  const [method, setMethod] = useState('');
  const [params, setParams] = useState('{}');
  const [twoWay, setTwoWay] = useState(true);
  const [timeout, setTimeoutSeconds] = useState(String(DEFAULT_TIMEOUT.twoWay));
  const [paramsError, setParamsError] = useState<string | null>(null);

  const send = useMutation({
    mutationFn: (input: Parameters<typeof sendCommand>[1]) => sendCommand(deviceId, input),
    onSettled: () => queryClient.invalidateQueries({ queryKey: commandKeys.all }),
    onSuccess: (command) => {
      if (command.status === 'succeeded') onResult(`The device answered ${command.method}.`);
      else if (command.status === 'failed') onResult(`${command.method} failed: ${command.error ?? 'the answer was refused'}.`);
      else if (command.status === 'queued') onResult(`${command.method} waits for the device to connect.`);
      else onResult(`${command.method} was delivered.`);
    },
  });
  const serverError = send.error instanceof ApiError && send.error.status !== 504 ? send.error : null;
  const field = (name: string) => serverError?.fieldMessage(name);

  function chooseMode(next: boolean) {
    setTwoWay(next);
    setTimeoutSeconds(String(next ? DEFAULT_TIMEOUT.twoWay : DEFAULT_TIMEOUT.oneWay));
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    let parsed: unknown;
    try {
      parsed = params.trim() === '' ? {} : JSON.parse(params);
    } catch {
      setParamsError('Params must be JSON, for example {"limit": 30}.');
      return;
    }
    setParamsError(null);
    send.mutate({ method: method.trim(), params: parsed, twoWay, timeoutSeconds: Number(timeout) });
  }

  return (
    <form className="command-form" onSubmit={submit} noValidate aria-label="Send a command">
      <div className="field-row">
        <TextField id="command-method" label="Method" value={method} onChange={(e) => setMethod(e.target.value)} required
          placeholder="reboot" autoComplete="off" error={field('method')} hint="What the device should do, as its firmware names it." />
        <TextField id="command-timeout" label="Timeout (seconds)" type="number" inputMode="numeric" min={1} value={timeout}
          onChange={(e) => setTimeoutSeconds(e.target.value)} error={field('timeoutSeconds')}
          hint={twoWay ? 'How long to wait for the answer (up to 120).' : 'How long the command waits for an offline device.'} />
      </div>
      <div className="field">
        <label htmlFor="command-params">Params (JSON)</label>
        <textarea id="command-params" rows={3} className="mono" value={params} onChange={(e) => setParams(e.target.value)}
          aria-invalid={paramsError || field('params') ? true : undefined} aria-describedby={paramsError || field('params') ? 'command-params-error' : undefined} />
        {(paramsError || field('params')) && <span className="field-error" id="command-params-error" role="alert">{paramsError ?? field('params')}</span>}
      </div>
      <fieldset className="radio-group">
        <legend>Answer</legend>
        <label><input type="radio" name="command-mode" checked={twoWay} onChange={() => chooseMode(true)} /> Wait for the device's answer (two-way)</label>
        <label><input type="radio" name="command-mode" checked={!twoWay} onChange={() => chooseMode(false)} /> Only deliver it (one-way; waits for an offline device)</label>
      </fieldset>
      {serverError && !serverError.details.length && <p className="field-error" role="alert">{serverError.message}</p>}
      {send.error instanceof ApiError && send.error.status === 504 && (
        <p className="field-error" role="alert">The device did not answer within {timeout} seconds; the command is kept in the history below.</p>
      )}
      <div className="row-actions">
        <button type="submit" className="button button-primary" disabled={send.isPending}>
          {send.isPending ? (twoWay ? 'Waiting for the answer…' : 'Sending…') : 'Send command'}
        </button>
      </div>
    </form>
  );
}
