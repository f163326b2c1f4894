/**
 * A node:test reporter that writes how long each top-level suite took, as `file<TAB>ms` lines, so
 * that `npm test` can balance its shards by measured time (scripts/test-shards.ts). Plain JavaScript:
 * the test runner loads reporters before tsx is registered.
 * @param {AsyncIterable<import('node:test/reporters').TestEvent>} source
 */
export default async function* timingsReporter(source) {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    if (event.data.nesting !== 0 || !event.data.file) continue;
    yield `${event.data.file}\t${event.data.details.duration_ms}\n`;
  }
}
