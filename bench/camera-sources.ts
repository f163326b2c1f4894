/**
 * Camera sources for the cameras benchmark, on loopback: an H.264 clip like an IP camera's (15 fps, a key
 * frame every 2 s, no B-frames) made by ffmpeg at run time, served over RTSP/TCP by the test suite's responder
 * (one push feeds every client), and a TCP proxy in front of it that can go away and come back on the same
 * port, as a camera's server does. Everything is stopped by the bench's cleanup.
 */
import net from 'node:net';
import path from 'node:path';
import { RtspResponder } from '../tests/helpers/rtsp.js';
import { onCleanup, runCommand } from './lib.js';

export const SOURCE_FPS = 15;
export const SOURCE_GOP_SECONDS = 2;

/** A 6-second looping clip of ffmpeg's moving test pattern at `width`×`height`. */
export async function makeCameraClip(dir: string, width: number, height: number): Promise<string> {
  const file = path.join(dir, `source-${height}p.mp4`);
  const made = await runCommand(`ffmpeg clip ${height}p`, 'ffmpeg', [
    '-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${SOURCE_FPS}`, '-t', '6',
    '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'superfast', '-tune', 'zerolatency',
    '-g', String(SOURCE_FPS * SOURCE_GOP_SECONDS), '-b:v', height >= 1080 ? '4M' : '2M', file,
  ], 180_000);
  if (made.code !== 0) throw new Error(`ffmpeg could not make the ${height}p clip: ${made.stderr}`);
  return file;
}

/** The clip served over RTSP (interleaved TCP); any path works, so each camera can have its own. */
export async function serveClip(clip: string): Promise<RtspResponder> {
  const responder = await RtspResponder.start({ clip });
  onCleanup(`rtsp responder ${responder.port}`, () => responder.stop(), 10_000);
  return responder;
}

/** A TCP relay on a fixed port to `targetPort`: `down()` refuses and cuts connections, `up()` accepts again. */
export class SwitchableProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();

  private constructor(readonly port: number, private readonly targetPort: number) {}

  static async start(targetPort: number): Promise<SwitchableProxy> {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const proxy = new SwitchableProxy(port, targetPort);
    await proxy.up();
    onCleanup(`proxy ${port}`, () => proxy.down(), 5000);
    return proxy;
  }

  url(pathName: string): string {
    return `rtsp://127.0.0.1:${this.port}/${pathName}`;
  }

  async up(): Promise<void> {
    if (this.server) return;
    const server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          this.sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', resolve);
    });
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
