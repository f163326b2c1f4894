import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderMessage, unknownPlaceholders } from '../src/server/alerts/rule-model.js';
import { jsonProblem, textProblem } from '../src/server/core/text.js';
import { parseEventItem, parseTelemetryItem, parseTimestamp } from '../src/server/ingest/items.js';
import { itemsOf, parseEnvelope, parseJson } from '../src/server/mqtt/payloads.js';
import { MAX_NUMBER_CHARS, readingNumber } from '../src/server/polosanca/service.js';

/**
 * Every parser and validator that reads what a device (or a user) sends stays linear in its input:
 * long runs of the characters a pattern repeats, followed by a tail that makes it fail, are answered
 * at once. The quadratic number check this replaces took 7.5 s on a 64 KB Polo Sanca field.
 */
const BOUND_MS = 1000;

/**
 * Runs of what number, date, name and placeholder patterns repeat, each with a failing tail: every
 * shape at 64 KB, and the plainest runs (digits, spaces, dots) at 1 MB too.
 */
function adversarial(): string[] {
  const run = (size: number, unit: string, tail: string) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size) + tail;
  const [kb, mb] = [64 * 1024, 1024 * 1024];
  return [
    run(kb, '1', 'x'), run(kb, ' ', 'x'), run(kb, '.', 'x'), run(kb, '1.', 'x'), run(kb, '1e', 'x'), run(kb, '-', 'x'), run(kb, '+1', 'e'),
    run(kb, '0', '.'), ` ${run(kb, '9', '')} x`, run(kb, 'a', '!'), run(kb, 'a.', '!'), run(kb, '{{', ''), `{{${run(kb, ' ', '')}`,
    run(kb, '{{ x', ''), run(kb, '2024-', 'x'), run(kb, '\ud800', ''), run(kb, '\u0000', ''),
    run(mb, '1', 'x'), run(mb, ' ', 'x'), run(mb, '.', 'x'),
  ];
}

function within<T>(what: string, work: () => T): T {
  const started = performance.now();
  const result = work();
  const elapsed = performance.now() - started;
  assert.ok(elapsed < BOUND_MS, `${what} took ${Math.round(elapsed)} ms`);
  return result;
}

describe('parsers of untrusted input are linear', { timeout: 120_000 }, () => {
  it('each exported validator answers adversarial inputs of 64 KB and 1 MB at once', () => {
    const now = Date.now();
    let calls = 0;
    for (const [i, text] of adversarial().entries()) {
      const label = `input ${i} (${text.length} characters)`;
      const checks: [string, () => unknown][] = [
        ['readingNumber', () => readingNumber(text)],
        ['parseTimestamp', () => parseTimestamp(text, 'Europe/Berlin', now)],
        ['parseEventItem', () => parseEventItem({ ts: text, kind: text, client_ref: text, severity: text, attributes: { [text]: text } }, 0, { zone: 'UTC', speedLimit: null }, now)],
        ['parseTelemetryItem', () => parseTelemetryItem({ ts: text, values: { [text]: text } }, 0, 'UTC', now)],
        ['textProblem', () => textProblem(text)],
        ['jsonProblem', () => jsonProblem({ a: [text, { [text]: text }] }, 'attributes')],
        ['parseJson', () => { try { parseJson(Buffer.from(text)); } catch { /* refused: what is timed is the refusal */ } }],
        ['itemsOf', () => itemsOf('telemetry', { ts: text, [text]: 1 }, () => now)],
        ['parseEnvelope', () => { try { parseEnvelope({ key: text, data: text }); } catch { /* refused */ } }],
        ['unknownPlaceholders', () => unknownPlaceholders(text)],
        ['renderMessage', () => renderMessage(text, { value: 1 })],
      ];
      for (const [name, check] of checks) {
        within(`${name}(${label})`, check);
        calls += 1;
      }
    }
    console.log(`untrusted-input timing: ${calls} calls, each under ${BOUND_MS} ms`);
  });

  it('a Polo Sanca number is bounded in length, and still read in every ordinary form', () => {
    assert.equal(readingNumber(`${'1'.repeat(64 * 1024)}x`), `must be a number of at most ${MAX_NUMBER_CHARS} characters`);
    assert.equal(readingNumber('1'.repeat(MAX_NUMBER_CHARS + 1)), `must be a number of at most ${MAX_NUMBER_CHARS} characters`);
    for (const [text, value] of [['4', 4], [' -3.5 ', -3.5], ['+.5', 0.5], ['1e3', 1000], ['2.5E-1', 0.25], ['0.0', 0]] as const) assert.equal(readingNumber(text), value, text);
    for (const text of ['1.', '.', '1e', 'e5', '1..2', '0x10', 'NaN', 'Infinity', '1,5', '--1']) assert.equal(readingNumber(text), 'must be a number', text);
  });

  it('an alert template reads its placeholders as before, spaces inside the braces included', () => {
    assert.deepEqual(unknownPlaceholders('Too warm: {{ value }} on {{fridge}} {{device}}'), ['fridge']);
    assert.equal(renderMessage('{{ value }}°C at {{device}} ({{serial}})', { value: 4.567, device: 'Fridge 1', serial: null }), '4.57°C at Fridge 1 (–)');
  });
});
