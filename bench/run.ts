/**
 * `npm run bench [-- <name filter>]`: builds the server once (`npm run build`), runs the benchmarks
 * whose name contains the filter, prints a table per benchmark, and always cleans up its child
 * processes and temp folders. It only prints: there are no time limits to pass or fail, but the exit
 * code is non-zero when a benchmark could not run to the end.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { cleanup, machineCpu, now, printTable, Reporter, ROOT, round, runCommand, sleep, type Benchmark } from './lib.js';
import { alerts } from './alerts.js';
import { bridge } from './bridge.js';
import { cameras } from './cameras.js';
import { challans } from './challans.js';
import { cluster } from './cluster.js';
import { detection } from './detection.js';
import { fuzzBench } from './fuzz.js';
import { ingest } from './ingest.js';
import { mqttBench } from './mqtt.js';
import { platform } from './platform.js';
import { reports } from './reports.js';
import { retention } from './retention.js';
import { soakBench } from './soak.js';
import { traffic } from './traffic.js';
import { web } from './web.js';

const BENCHMARKS: Benchmark[] = [platform, ingest, mqttBench, web, alerts, traffic, reports, retention, bridge, cameras, detection, challans, soakBench, fuzzBench, cluster];

function git(...args: string[]): string {
  const result = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8', timeout: 10_000 });
  return result.status === 0 ? result.stdout.trim() : '?';
}

async function main(): Promise<number> {
  const filter = process.argv.slice(2).find((arg) => !arg.startsWith('-'));
  const selected = BENCHMARKS.filter((b) => !filter || b.name.includes(filter));
  if (selected.length === 0) {
    console.error(`no benchmark matches "${filter}"; available:\n${BENCHMARKS.map((b) => `  ${b.name}  ${b.description}`).join('\n')}`);
    return 2;
  }

  const dirty = git('status', '--porcelain', '--', 'src', 'bin', 'package.json');
  console.log('# Vigil benchmarks');
  console.log(`node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.platform()} ${os.release()}`);
  console.log(`commit ${git('rev-parse', '--short', 'HEAD')}${dirty && dirty !== '?' ? ' + uncommitted changes in src/bin' : ''}`);

  // Other work on the machine skews every figure: say how busy it was just before we start.
  const before = machineCpu();
  await sleep(3000);
  const busy = (machineCpu().busy - before.busy) / 30;
  console.log(`machine load before the run: ${round(busy, 0)}% of one core busy over 3 s${busy > 20 ? ' (other work is running: expect noisy figures)' : ''}`);

  if (selected.some((b) => b.needsBuild)) {
    const started = now();
    const build = await runCommand('npm run build', 'npm', ['run', 'build', '--silent'], 300_000, { cwd: ROOT });
    if (build.code !== 0) {
      console.error(`npm run build failed (exit ${build.code}):\n${build.stdout}\n${build.stderr}`);
      return 1;
    }
    console.log(`npm run build: ${round((now() - started) / 1000)} s`);
  }

  let failed = 0;
  for (const benchmark of selected) {
    console.log(`\n## ${benchmark.name}: ${benchmark.description}\n`);
    const report = new Reporter(benchmark.name);
    try {
      await benchmark.run(report);
    } catch (error) {
      failed += 1;
      report.problem(`the benchmark stopped: ${(error as Error).stack ?? error}`);
    } finally {
      await cleanup();
    }
    printTable(benchmark.name, report.rows);
    console.log(report.problems.length ? `\nProblems noticed:\n${report.problems.map((p) => `- ${p}`).join('\n')}` : '\nNo problems noticed.');
  }
  return failed ? 1 : 0;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

main()
  .catch((error: unknown) => {
    console.error(error);
    return 1;
  })
  .then(async (code) => {
    await cleanup();
    process.exit(code);
  });
