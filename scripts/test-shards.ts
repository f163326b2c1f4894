/**
 * Groups the suite's test files into a few processes ("shards") instead of one process per file.
 * Loading the server's module graph under tsx costs each process about 2–3 s of CPU; with 120 files
 * that was a third of the suite's time on two cores. Every test file is self-contained (its suites
 * start their own app on their own database and close it), so files share a process safely.
 *
 * Files are balanced by how long they took last time they were measured (tests/timings.json), the
 * longest first into the least loaded shard; a file not measured yet counts as the median.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const TIMINGS_FILE = path.join('tests', 'timings.json');

export type Timings = Record<string, number>;

export function readTimings(): Timings {
  if (!fs.existsSync(TIMINGS_FILE)) return {};
  return JSON.parse(fs.readFileSync(TIMINGS_FILE, 'utf8')) as Timings;
}

function median(values: number[]): number {
  if (!values.length) return 1;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Splits `files` into `count` groups of about equal measured time (longest processing time first). */
export function planShards(files: string[], timings: Timings, count: number): string[][] {
  const fallback = median(Object.values(timings));
  const weight = (file: string) => timings[file.split(path.sep).join('/')] ?? fallback;
  const shards = Array.from({ length: Math.min(count, files.length) }, () => ({ files: [] as string[], seconds: 0 }));
  for (const file of [...files].sort((a, b) => weight(b) - weight(a) || a.localeCompare(b))) {
    const lightest = shards.reduce((best, shard) => (shard.seconds < best.seconds ? shard : best));
    lightest.files.push(file);
    lightest.seconds += weight(file);
  }
  return shards.map((shard) => shard.files.sort());
}

/** Writes one module per shard that imports its test files in order; returns their paths. */
export function writeShardModules(shards: string[][], folder: string): string[] {
  return shards.map((files, index) => {
    const target = path.join(folder, `shard-${index + 1}.test.mjs`);
    const imports = files.map((file) => `import ${JSON.stringify(pathToFileURL(path.resolve(file)).href)};`);
    fs.writeFileSync(target, `${imports.join('\n')}\n`);
    return target;
  });
}

/** Sums the per-file lines `file<TAB>ms` the timings reporter wrote into seconds per repository path. */
export function timingsFromReport(report: string): Timings {
  const seconds: Timings = {};
  for (const line of report.split('\n')) {
    const [file, ms] = line.split('\t');
    if (!file || !ms) continue;
    const key = path.relative(process.cwd(), file).split(path.sep).join('/');
    seconds[key] = (seconds[key] ?? 0) + Number(ms) / 1000;
  }
  return Object.fromEntries(Object.entries(seconds).sort(([a], [b]) => a.localeCompare(b)).map(([file, s]) => [file, Math.round(s * 10) / 10]));
}
