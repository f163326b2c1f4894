import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { imageTypeOf } from '../core/media.js';
import type { PreviewReply, PreviewRequest } from './pdf-preview-child.js';

/**
 * The first page of an uploaded PDF as a small JPEG, drawn by PDF.js in a child process (pdf-preview-child.ts)
 * with a time limit and a memory ceiling, so a malicious PDF costs at most that process and that time; the
 * upload itself never fails for want of a preview.
 */
export interface PdfPreviewOptions {
  /** The child is killed after this long (start-up included). */
  timeoutMs: number;
  width: number;
  /** A page taller than this (at `width`) is drawn from its top only. */
  maxHeight: number;
  /** Embedded images above this many pixels are left undrawn. */
  maxImagePixels: number;
}

// 0.3 s is usual; the limit leaves room for a machine many times busier (seen at load 20 on 2 cores).
export const PDF_PREVIEW: PdfPreviewOptions = { timeoutMs: 30_000, width: 320, maxHeight: 640, maxImagePixels: 25_000_000 };

/** Why there is no preview: no renderer on this machine, a PDF it cannot draw, past the time limit, or too many at once. */
export type PdfPreview = { jpeg: Buffer } | { problem: 'unavailable' | 'unreadable' | 'timeout' | 'busy'; detail: string };

/** A child process holds ~60 MB: two drawing at once and a few waiting is plenty for signed copies uploaded by people. */
const RUNNING = 2;
const WAITING = 8;
const CHILD_HEAP_MB = 192;
let running = 0;
const queue: (() => void)[] = [];

const here = fileURLToPath(import.meta.url);
// Run from the sources (tsx) the child is a .ts file and needs the same loader; built, it is plain JavaScript.
const script = here.replace(/pdf-preview\.(ts|js)$/, 'pdf-preview-child.$1');
const LOADER_FLAGS = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader']);

function loaderArgs(argv: string[]): string[] {
  if (!script.endsWith('.ts')) return [];
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (LOADER_FLAGS.has(arg) && i + 1 < argv.length) args.push(arg, argv[++i]!);
    else if (/^--(import|require|loader|experimental-loader)=/.test(arg)) args.push(arg);
  }
  return args;
}

function draw(data: Buffer, options: PdfPreviewOptions): Promise<PdfPreview> {
  return new Promise((resolve) => {
    const child = fork(script, [], {
      execArgv: [...loaderArgs(process.execArgv), `--max-old-space-size=${CHILD_HEAP_MB}`],
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      serialization: 'advanced',
    });
    let settled = false;
    const finish = (answer: PdfPreview) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL');
      resolve(answer);
    };
    const timer = setTimeout(() => finish({ problem: 'timeout', detail: `not drawn within ${options.timeoutMs} ms` }), options.timeoutMs);
    child.on('message', (reply: PreviewReply) => {
      if ('problem' in reply) return finish(reply);
      const jpeg = Buffer.from(reply.jpeg);
      // What comes back is checked like any image: a JPEG of the size asked for.
      const sane = imageTypeOf(jpeg) === 'image/jpeg' && reply.width === options.width && reply.height <= options.maxHeight;
      finish(sane ? { jpeg } : { problem: 'unreadable', detail: 'the drawing was not a JPEG of the expected size' });
    });
    child.on('error', (error) => finish({ problem: 'unavailable', detail: error.message }));
    child.on('exit', (code, signal) => finish({ problem: 'unreadable', detail: `the drawing process ended (${signal ?? `exit ${code}`})` }));
    const request: PreviewRequest = { data, width: options.width, maxHeight: options.maxHeight, maxImagePixels: options.maxImagePixels };
    child.send(request, (error) => { if (error) finish({ problem: 'unavailable', detail: error.message }); });
  });
}

export async function pdfPreview(data: Buffer, options: PdfPreviewOptions = PDF_PREVIEW): Promise<PdfPreview> {
  if (running < RUNNING) running++;
  else if (queue.length >= WAITING) return { problem: 'busy', detail: `${RUNNING} previews drawing and ${WAITING} waiting` };
  // A finished drawing hands its place straight to the first waiter.
  else await new Promise<void>((resolve) => queue.push(resolve));
  try {
    return await draw(data, options);
  } finally {
    const next = queue.shift();
    if (next) next();
    else running--;
  }
}
