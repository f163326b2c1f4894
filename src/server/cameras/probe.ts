import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../core/http/errors.js';

/**
 * Checks an uploaded placeholder video with ffprobe (Debian's ffmpeg package) before Vigil accepts it:
 * an MP4 or WebM container with a video stream whose first frame decodes, of a sane frame size and
 * duration. ffprobe runs with an argument list (no shell) and a time bound.
 */
export interface ProbedVideo {
  contentType: 'video/mp4' | 'video/webm';
  codec: string;
  width: number;
  height: number;
  durationSeconds: number;
}

export type ProbeResult = { video: ProbedVideo } | { problem: string };

const FRAME_MIN = 16;
const FRAME_MAX = 4096;
const DURATION_MIN_SECONDS = 0.1;
const DURATION_MAX_SECONDS = 6 * 3600;

interface FfprobeOutput {
  streams?: { codec_name?: string; width?: number; height?: number; nb_read_frames?: string }[];
  format?: { format_name?: string; duration?: string };
}

function run(file: string, timeoutMs: number): Promise<{ stdout: string } | { failed: string }> {
  // Only local files and the MP4 and WebM demuxers (an upload posing as a playlist cannot make ffprobe fetch
  // anything); only the first video frame is decoded (-read_intervals %+#1 with -count_frames): proof it plays.
  const args = [
    '-v', 'error', '-protocol_whitelist', 'file', '-format_whitelist', 'mov,mp4,m4a,3gp,3g2,mj2,matroska,webm', '-select_streams', 'v:0', '-read_intervals', '%+#1', '-count_frames',
    '-show_entries', 'stream=codec_name,width,height,nb_read_frames:format=format_name,duration', '-of', 'json', file,
  ];
  return new Promise((resolve, reject) => {
    execFile('ffprobe', args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024, windowsHide: true }, (error, stdout, stderr) => {
      if (!error) return resolve({ stdout });
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return reject(new AppError(503, 'ffprobe_missing', 'placeholder videos are checked with ffprobe, which is not installed on this server (install the ffmpeg package)'));
      }
      if (error.killed) return resolve({ failed: `could not be read within ${Math.round(timeoutMs / 1000)} s` });
      // ffprobe names the file in its messages; the temporary path means nothing to the uploader.
      const reason = stderr.split('\n')
        .map((line) => line.split(file).join('the file').replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/, '').trim())
        .find((line) => line !== '');
      resolve({ failed: reason ? `could not be read as a video (${reason.slice(0, 200)})` : 'could not be read as a video' });
    });
  });
}

/** Probes the bytes from a private temporary file (an MP4 may keep its index at the end, so ffprobe needs to seek). */
export async function probeVideo(data: Buffer, timeoutMs = 20_000): Promise<ProbeResult> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'vigil-probe-'));
  try {
    const file = path.join(dir, 'upload');
    await fs.promises.writeFile(file, data);
    return await probeFile(file, timeoutMs);
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

async function probeFile(file: string, timeoutMs: number): Promise<ProbeResult> {
  const ran = await run(file, timeoutMs);
  if ('failed' in ran) return { problem: ran.failed };
  let output: FfprobeOutput;
  try {
    output = JSON.parse(ran.stdout) as FfprobeOutput;
  } catch {
    return { problem: 'could not be read as a video' };
  }
  const container = output.format?.format_name ?? '';
  const contentType = container.split(',').includes('mp4') ? 'video/mp4' : container.split(',').includes('webm') ? 'video/webm' : null;
  if (!contentType) return { problem: `is not an MP4 or WebM video${container ? ` (ffprobe reads it as ${container})` : ''}` };
  const stream = output.streams?.[0];
  if (!stream) return { problem: 'has no video stream' };
  const codec = stream.codec_name ?? 'unknown';
  if (Number(stream.nb_read_frames ?? 0) < 1) return { problem: `has a video stream (${codec}) whose frames could not be decoded` };
  const width = stream.width ?? 0;
  const height = stream.height ?? 0;
  if (width < FRAME_MIN || height < FRAME_MIN || width > FRAME_MAX || height > FRAME_MAX) {
    return { problem: `is ${width}×${height}; frames from ${FRAME_MIN}×${FRAME_MIN} to ${FRAME_MAX}×${FRAME_MAX} are accepted` };
  }
  const durationSeconds = Number(output.format?.duration);
  if (!Number.isFinite(durationSeconds) || durationSeconds < DURATION_MIN_SECONDS || durationSeconds > DURATION_MAX_SECONDS) {
    return { problem: `lasts ${Number.isFinite(durationSeconds) ? `${durationSeconds} s` : 'an unknown time'}; from ${DURATION_MIN_SECONDS} s to ${DURATION_MAX_SECONDS / 3600} hours is accepted` };
  }
  return { video: { contentType, codec, width, height, durationSeconds } };
}
