/**
 * Why a decode attempt failed, in words an operator can act on, read from ffmpeg's stderr and exit.
 * The lines are already redacted; the first rule that matches wins.
 */
export interface AttemptOutcome {
  /** stderr lines of the attempt (redacted). */
  lines: string[];
  /** The process's exit code, or null when it was killed or never started. */
  exitCode: number | null;
  /** The attempt's spawn error code, e.g. ENOENT when ffmpeg is not installed. */
  spawnError?: string;
  /** Frames the attempt delivered. */
  frames: number;
  /** How long the attempt ran. */
  elapsedMs: number;
  /** The attempt was stopped by the watchdog for delivering no frames. */
  stalled?: boolean;
}

const RULES: [RegExp, string][] = [
  [/401 Unauthorized|authorization failed|Unauthorized/i, '401 unauthorized: the camera refused the user name or password'],
  [/403 Forbidden/i, '403 forbidden: the camera refused access to this stream'],
  [/404 Not Found|Stream not found/i, '404 not found: the camera has no stream at this path'],
  [/Failed to resolve hostname|Name or service not known|nodename nor servname|Temporary failure in name resolution/i, 'DNS failure: the camera\'s host name does not resolve'],
  [/Connection refused/i, 'connection refused: nothing listens on the camera\'s address and port'],
  [/No route to host|Network is unreachable|Host is unreachable/i, 'network unreachable: no route to the camera'],
  [/Connection timed out|Operation timed out|\btimed out\b/i, 'timeout: the camera did not answer in time'],
  [/Connection reset by peer|End of file/i, 'connection closed by the camera'],
  [/Decoder \(codec [^)]*\) not found|Unsupported codec|codec not currently supported|Could not find codec parameters|unknown codec|no decoder/i, 'unsupported codec: the stream\'s video cannot be decoded'],
  [/does not contain any stream|Output file #0 does not contain|no video stream/i, 'no video: the stream has no video track'],
  [/Protocol not found|Unsupported transport/i, 'unsupported protocol or transport: try the other RTSP transport (tcp or udp)'],
];

export function classifyFailure(outcome: AttemptOutcome, socketTimeoutMs: number): string {
  if (outcome.spawnError === 'ENOENT') return 'ffmpeg is not installed (install the Debian ffmpeg package or set FFMPEG_PATH)';
  if (outcome.spawnError) return `ffmpeg could not be started (${outcome.spawnError})`;
  if (outcome.stalled) {
    return outcome.frames > 0 ? 'no frames: the stream stopped delivering pictures' : 'no frames: the camera answered but sent no pictures';
  }
  const text = outcome.lines.join('\n');
  for (const [pattern, cause] of RULES) if (pattern.test(text)) return cause;
  // ffmpeg reports a connection that was accepted and then never answered as unreadable data, once its socket timeout passes.
  if (/Invalid data found/i.test(text) && outcome.elapsedMs >= socketTimeoutMs * 0.9) return 'timeout: the camera accepted the connection but did not answer';
  if (/Invalid data found/i.test(text)) return 'not a video stream: the address answered with something ffmpeg cannot read';
  if (outcome.frames > 0) return `the stream ended (ffmpeg exited with code ${outcome.exitCode ?? 'none'})`;
  const last = outcome.lines.at(-1);
  return last ? `no frames (${last.slice(0, 200)})` : `no frames (ffmpeg exited with code ${outcome.exitCode ?? 'none'})`;
}
