import fs from 'node:fs';
import type { CameraTransport } from '../../core/db/schema.js';
import type { RtspCredentials } from '../service.js';

/**
 * ffmpeg's argument lists for a camera (argument arrays, never a shell line) and the redaction of its
 * credentials. The user name and password go into the address only in the child's argv; every line Vigil
 * logs or keeps goes through `redactor()` first.
 */

/** How long ffmpeg waits on the camera's socket before it gives up (RTSP `-timeout`). */
export const SOCKET_TIMEOUT_MS = 10_000;

const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
let fontAvailable: boolean | undefined;

export interface FrameShape {
  /** Square frame side in pixels: the camera's inference size. */
  size: number;
  /** Frames per second delivered. */
  fps: number;
}

/** The address with the credentials in its userinfo, percent-encoded (for ffmpeg's argv only). */
export function addressWithCredentials(rtspUrl: string, credentials: RtspCredentials | null): string {
  if (!credentials) return rtspUrl;
  const url = new URL(rtspUrl);
  url.username = credentials.username;
  url.password = credentials.password;
  return url.toString();
}

/** Fit into a square of the inference size and pad (letterbox), so boxes keep the picture's proportions. */
function frameFilter(shape: FrameShape, watermark: boolean): string {
  const s = shape.size;
  const filters = [`fps=${shape.fps}`, `scale=${s}:${s}:force_original_aspect_ratio=decrease`, `pad=${s}:${s}:(ow-iw)/2:(oh-ih)/2`];
  if (watermark) filters.push(...demoWatermark(s));
  return filters.join(',');
}

/** A visible "DEMO" mark, so nobody takes the placeholder for the site's live picture. */
function demoWatermark(size: number): string[] {
  fontAvailable ??= fs.existsSync(FONT);
  const box = `drawbox=x=0:y=0:w=iw:h=${Math.round(size / 8)}:color=red@0.6:t=fill`;
  if (!fontAvailable) return [box, `drawbox=x=iw/4:y=ih/4:w=iw/2:h=ih/2:color=red@0.8:t=${Math.max(2, Math.round(size / 80))}`];
  return [box, `drawtext=fontfile=${FONT}:text=DEMO:fontcolor=white:fontsize=${Math.round(size / 10)}:x=(w-text_w)/2:y=(${Math.round(size / 8)}-text_h)/2`];
}

const OUTPUT = ['-an', '-sn', '-dn', '-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', '5', 'pipe:1'];
const COMMON = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'warning'];

/** Decoding the camera's stream. */
export function rtspArgs(address: string, transport: CameraTransport, shape: FrameShape, socketTimeoutMs = SOCKET_TIMEOUT_MS): string[] {
  const timeoutUs = String(socketTimeoutMs * 1000);
  return [
    ...COMMON,
    // RTSP's own socket timeout; ffmpeg 5.1 refuses the generic -rw_timeout once the RTSP demuxer is chosen.
    '-rtsp_transport', transport, '-timeout', timeoutUs,
    '-i', address,
    '-vf', frameFilter(shape, false),
    ...OUTPUT,
  ];
}

/** Playing the placeholder video in a loop at its own speed, watermarked. */
export function placeholderArgs(file: string, shape: FrameShape): string[] {
  return [...COMMON, '-re', '-stream_loop', '-1', '-i', file, '-vf', frameFilter(shape, true), ...OUTPUT];
}

/** One frame at the source's own size, for a connection test. */
export function testArgs(address: string, transport: CameraTransport, timeoutMs: number): string[] {
  const timeoutUs = String(timeoutMs * 1000);
  return [...COMMON, '-rtsp_transport', transport, '-timeout', timeoutUs, '-i', address, '-frames:v', '1', ...OUTPUT];
}

/** A value as written plainly, percent-encoded and as the URL class encodes userinfo. */
function spellings(value: string): string[] {
  const url = new URL('rtsp://host');
  url.password = value;
  return [...new Set([value, encodeURIComponent(value), url.password])].filter((s) => s.length >= 3);
}

/**
 * A function that removes a camera's credentials from a line of text: any userinfo in an address, and the
 * user name and password themselves wherever they appear (plain or percent-encoded).
 */
export function redactor(credentials: RtspCredentials | null): (line: string) => string {
  const secrets = credentials ? [...spellings(credentials.password), ...spellings(credentials.username)] : [];
  // Longest first, so a password that contains the user name is removed whole; very short values would
  // blank out ordinary words, and the userinfo rule below already covers them inside an address.
  secrets.sort((a, b) => b.length - a.length);
  return (line: string) => {
    let out = line.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi, '$1***@');
    for (const secret of secrets) out = out.split(secret).join('***');
    return out;
  };
}
