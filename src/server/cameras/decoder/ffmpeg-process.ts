import { spawn, type ChildProcess } from 'node:child_process';
import type { AttemptOutcome } from './causes.js';
import { JpegFrameSplitter } from './jpeg-frames.js';

/** ffmpeg stderr lines kept per camera for admins. */
export const STDERR_TAIL_LINES = 20;
const MAX_LINE_CHARS = 500;

/**
 * One ffmpeg child: JPEG frames from its stdout, its stderr redacted line by line into a short tail, and
 * its outcome once it exits. `stop()` asks it to quit (SIGTERM), then kills it if it lingers.
 */
export class FfmpegProcess {
  readonly done: Promise<AttemptOutcome>;
  private readonly child: ChildProcess | null;
  private readonly startedAt = Date.now();
  private frames = 0;
  private stalled = false;
  private partialLine = '';
  readonly lines: string[] = [];

  constructor(
    ffmpegPath: string,
    args: string[],
    private readonly redact: (line: string) => string,
    onFrame: (jpeg: Buffer) => void,
    private readonly onLine: (line: string) => void = () => undefined,
  ) {
    const splitter = new JpegFrameSplitter();
    let child: ChildProcess;
    let resolveDone!: (outcome: AttemptOutcome) => void;
    this.done = new Promise((resolve) => (resolveDone = resolve));
    const finish = (exitCode: number | null, spawnError?: string) => {
      this.flushLine();
      resolveDone({ lines: [...this.lines], exitCode, spawnError, frames: this.frames, elapsedMs: Date.now() - this.startedAt, stalled: this.stalled });
    };
    try {
      child = spawn(ffmpegPath, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    } catch (error) {
      this.child = null;
      finish(null, (error as NodeJS.ErrnoException).code ?? 'spawn failed');
      return;
    }
    this.child = child;
    child.stdout!.on('data', (chunk: Buffer) => {
      for (const jpeg of splitter.push(chunk)) {
        this.frames += 1;
        onFrame(jpeg);
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (text: string) => this.takeStderr(text));
    // 'error' (not found, not executable) comes instead of 'close' or before it.
    let spawnError: string | undefined;
    child.on('error', (error: NodeJS.ErrnoException) => {
      spawnError = error.code ?? error.message;
      if (child.pid === undefined) finish(null, spawnError);
    });
    child.on('close', (code) => finish(code, spawnError));
  }

  get frameCount(): number {
    return this.frames;
  }

  /** Stops the process; `stalled` records that the watchdog did it. */
  stop(stalled = false): Promise<AttemptOutcome> {
    this.stalled ||= stalled;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
      kill.unref();
      void this.done.then(() => clearTimeout(kill));
    }
    return this.done;
  }

  private takeStderr(text: string): void {
    const parts = (this.partialLine + text).split(/\r?\n|\r/);
    this.partialLine = parts.pop() ?? '';
    // A line that never ends must not grow without bound.
    if (this.partialLine.length > 16 * MAX_LINE_CHARS) {
      parts.push(this.partialLine);
      this.partialLine = '';
    }
    for (const part of parts) this.keep(part);
  }

  private flushLine(): void {
    if (this.partialLine) this.keep(this.partialLine);
    this.partialLine = '';
  }

  private keep(raw: string): void {
    const line = this.redact(raw.trim()).slice(0, MAX_LINE_CHARS);
    if (!line) return;
    this.lines.push(line);
    if (this.lines.length > STDERR_TAIL_LINES) this.lines.shift();
    this.onLine(line);
  }
}
