import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { eventually, freePort, sleep } from './process.js';

/**
 * Real RTSP sources on loopback for the camera decoder tests:
 * - `RelayServer`: Debian's rtsp-server-perl relaying an ffmpeg push of a test clip (RTP over UDP, no auth);
 * - `RtspResponder`: a small RTSP server in node that serves the clip over TCP (interleaved RTP) behind
 *   Basic authentication, or accepts connections and never answers (`silent`).
 * Every process and socket is stopped by `stop()`.
 */

/** A looping H.264 MP4 from ffmpeg's test pattern, made at test time (no video is committed). */
export function makeClip(dir: string, size = '320x240', name = 'clip.mp4'): string {
  const file = path.join(dir, name);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=10`, '-t', '2', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-g', '5', file]);
  return file;
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-rtsp-'));
}

function stopChild(child: ChildProcess | null): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 2000).unref();
  });
}

/** ffmpeg pushing the clip in a loop, at its own speed, without re-encoding. */
function push(clip: string, output: string[]): ChildProcess {
  return spawn('ffmpeg', ['-v', 'error', '-re', '-stream_loop', '-1', '-i', clip, '-an', '-c', 'copy', ...output], { stdio: 'ignore' });
}

export class RelayServer {
  private server: ChildProcess | null = null;
  private pusher: ChildProcess | null = null;

  private constructor(private readonly clip: string, readonly clientPort: number, private readonly sourcePort: number, private readonly rtpPort: number) {}

  static async start(clip: string): Promise<RelayServer> {
    const relay = new RelayServer(clip, await freePort(), await freePort(), await freeUdpPort());
    await relay.resume();
    return relay;
  }

  /** The address cameras pull (UDP transport only). */
  get url(): string {
    return `rtsp://127.0.0.1:${this.clientPort}/cam`;
  }

  /** Starts the server and the push (again, after `halt`). */
  async resume(): Promise<void> {
    this.server = spawn('rtsp-server-perl', [
      '--clientport', String(this.clientPort), '--serverport', String(this.sourcePort),
      '--client_listen_address', '127.0.0.1', '--source_listen_address', '127.0.0.1',
      // Its RTP ports count up from here (20000 by default): two servers on the same ports lose each other's packets.
      '--rtp_start_port', String(this.rtpPort),
    ], { stdio: process.env.RTSP_DEBUG ? 'inherit' : 'ignore' });
    const listening = await eventually(() => canConnect(this.sourcePort), 10_000, 50);
    if (!listening) throw new Error('rtsp-server-perl did not start (is the rtsp-server-perl package installed?)');
    this.pusher = push(this.clip, ['-f', 'rtsp', '-rtsp_transport', 'udp', `rtsp://127.0.0.1:${this.sourcePort}/cam`]);
  }

  /** Stops delivering pictures while the server keeps answering (the push is paused). */
  pausePush(): void {
    this.pusher?.kill('SIGSTOP');
  }

  resumePush(): void {
    this.pusher?.kill('SIGCONT');
  }

  /** The server goes away: its port refuses connections until `resume`. */
  async halt(): Promise<void> {
    await Promise.all([stopChild(this.pusher), stopChild(this.server)]);
    this.pusher = null;
    this.server = null;
  }

  stop(): Promise<void> {
    return this.halt();
  }
}

/** An even UDP port that was free a moment ago. */
async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  socket.close();
  return port - (port % 2);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface ResponderOptions {
  /** Serve this clip (RTP over the RTSP connection); absent: accept connections and never answer. */
  clip?: string;
  /** Required Basic credentials; absent: no authentication. */
  credentials?: { username: string; password: string };
}

/** A minimal RTSP server over TCP: OPTIONS, DESCRIBE (with Basic auth), SETUP (interleaved only), PLAY, TEARDOWN. */
export class RtspResponder {
  /** Every Authorization header received, decoded (to check what ffmpeg sent). */
  readonly authorizations: string[] = [];
  private readonly sockets = new Set<net.Socket>();
  private readonly playing = new Set<net.Socket>();
  private pusher: ChildProcess | null = null;
  private readonly udp: dgram.Socket[] = [];

  private constructor(private readonly server: net.Server, readonly port: number, private readonly sdp: string | null) {}

  static async start(options: ResponderOptions = {}): Promise<RtspResponder> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    let sdp: string | null = null;
    const udp: dgram.Socket[] = [];
    let pusher: ChildProcess | null = null;
    if (options.clip) {
      // ffmpeg sends RTP to a local UDP port; the responder wraps each packet for the RTSP connection.
      const [rtp, rtcp] = [dgram.createSocket('udp4'), dgram.createSocket('udp4')];
      await Promise.all([rtp, rtcp].map((s) => new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve))));
      udp.push(rtp, rtcp);
      const dir = tempDir();
      const sdpFile = path.join(dir, 'stream.sdp');
      pusher = push(options.clip, ['-f', 'rtp', '-sdp_file', sdpFile, `rtp://127.0.0.1:${rtp.address().port}?rtcpport=${rtcp.address().port}`]);
      await eventually(() => fs.existsSync(sdpFile) && fs.readFileSync(sdpFile, 'utf8').includes('a=rtpmap'), 10_000, 50);
      sdp = fs.readFileSync(sdpFile, 'utf8')
        .replace(/^c=IN IP4 .*$/m, 'c=IN IP4 0.0.0.0')
        .replace(/^m=video \d+/m, 'm=video 0')
        .replace(/(a=rtpmap:[^\r\n]*)/, '$1\r\na=control:trackID=0')
        .replace(/\r?\n/g, '\r\n');
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const responder = new RtspResponder(server, port, sdp);
    responder.pusher = pusher;
    responder.udp.push(...udp);
    udp[0]?.on('message', (packet) => responder.forward(packet));
    server.on('connection', (socket) => responder.serve(socket, options));
    return responder;
  }

  url(pathName = 'cam'): string {
    return `rtsp://127.0.0.1:${this.port}/${pathName}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.udp) socket.close();
    await stopChild(this.pusher);
  }

  private forward(packet: Buffer): void {
    const header = Buffer.from([0x24, 0, packet.length >> 8, packet.length & 0xff]);
    for (const socket of this.playing) socket.write(Buffer.concat([header, packet]));
  }

  private serve(socket: net.Socket, options: ResponderOptions): void {
    this.sockets.add(socket);
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.playing.delete(socket);
    });
    socket.on('error', () => undefined);
    if (!this.sdp) return; // silent: the connection is accepted and never answered
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        // Interleaved packets from the client (RTCP reports) are skipped.
        if (buffer[0] === 0x24) {
          if (buffer.length < 4 || buffer.length < 4 + buffer.readUInt16BE(2)) return;
          buffer = buffer.subarray(4 + buffer.readUInt16BE(2));
          continue;
        }
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffer.subarray(0, end).toString('utf8');
        buffer = buffer.subarray(end + 4);
        socket.write(this.answer(head, socket, options));
      }
    });
  }

  private answer(head: string, socket: net.Socket, options: ResponderOptions): string {
    const [requestLine, ...headerLines] = head.split('\r\n');
    const [method, url] = requestLine!.split(' ');
    const headers = new Map(headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
    const cseq = headers.get('cseq') ?? '0';
    const reply = (status: string, extra: string[] = [], body = '') =>
      [`RTSP/1.0 ${status}`, `CSeq: ${cseq}`, ...extra, ...(body ? [`Content-Length: ${Buffer.byteLength(body)}`] : []), '', body].join('\r\n');
    const authorization = headers.get('authorization');
    if (authorization?.startsWith('Basic ')) this.authorizations.push(Buffer.from(authorization.slice(6), 'base64').toString('utf8'));
    if (options.credentials && method !== 'OPTIONS') {
      const expected = `Basic ${Buffer.from(`${options.credentials.username}:${options.credentials.password}`).toString('base64')}`;
      if (authorization !== expected) return reply('401 Unauthorized', ['WWW-Authenticate: Basic realm="vigil-test"']);
    }
    switch (method) {
      case 'OPTIONS':
        return reply('200 OK', ['Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER']);
      case 'DESCRIBE':
        return reply('200 OK', ['Content-Type: application/sdp', `Content-Base: ${url}/`], this.sdp!);
      case 'SETUP':
        if (!/interleaved/.test(headers.get('transport') ?? '')) return reply('461 Unsupported Transport');
        return reply('200 OK', ['Transport: RTP/AVP/TCP;unicast;interleaved=0-1', 'Session: 4242;timeout=60']);
      case 'PLAY':
        this.playing.add(socket);
        return reply('200 OK', ['Session: 4242']);
      case 'TEARDOWN':
        this.playing.delete(socket);
        return reply('200 OK');
      default:
        return reply('200 OK');
    }
  }
}

export { sleep };
