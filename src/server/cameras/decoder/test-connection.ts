import type { CameraTransport } from '../../core/db/schema.js';
import type { RtspCredentials } from '../service.js';
import { classifyFailure } from './causes.js';
import { addressWithCredentials, redactor, testArgs } from './ffmpeg-args.js';
import { FfmpegProcess } from './ffmpeg-process.js';
import { jpegSize } from './jpeg-frames.js';

export interface ConnectionTarget {
  rtspUrl: string;
  transport: CameraTransport;
  credentials: RtspCredentials | null;
}

export type ConnectionTestResult =
  | { ok: true; width: number; height: number; elapsedMs: number }
  | { ok: false; cause: string; elapsedMs: number };

/**
 * Opens the source once with ffmpeg and decodes one frame at its own size: ok with the frame size, or the
 * cause in words. Bounded by `timeoutMs` in all (ffmpeg's socket timeout is set a little shorter, so a
 * silent camera is reported as a timeout by ffmpeg itself).
 */
export async function testConnection(ffmpegPath: string, target: ConnectionTarget, timeoutMs = 8000): Promise<ConnectionTestResult> {
  const socketTimeoutMs = Math.max(1000, timeoutMs - 2000);
  const address = addressWithCredentials(target.rtspUrl, target.credentials);
  let size: { width: number; height: number } | null = null;
  const process: FfmpegProcess = new FfmpegProcess(ffmpegPath, testArgs(address, target.transport, socketTimeoutMs), redactor(target.credentials), (jpeg) => {
    size ??= jpegSize(jpeg);
    void process.stop();
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void process.stop();
  }, timeoutMs);
  const outcome = await process.done;
  clearTimeout(timer);
  const found = size as { width: number; height: number } | null;
  if (found) return { ok: true, width: found.width, height: found.height, elapsedMs: outcome.elapsedMs };
  if (timedOut) return { ok: false, cause: `timeout: no picture within ${Math.round(timeoutMs / 1000)} s`, elapsedMs: outcome.elapsedMs };
  return { ok: false, cause: classifyFailure(outcome, socketTimeoutMs), elapsedMs: outcome.elapsedMs };
}
