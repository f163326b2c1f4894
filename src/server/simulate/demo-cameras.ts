import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Scope } from '../core/access.js';
import type { Actor } from '../audit/service.js';
import type { Services } from '../services.js';

/**
 * The demo's safety cameras: a construction site whose cameras play a placeholder video made by ffmpeg
 * at demo time from its own test sources (moving pictures, nothing to license), uploaded through the
 * cameras service like a user's upload and switched on with "use placeholder". Without ffmpeg the
 * cameras are still created and the demo says they have no video.
 */

export interface DemoCamera {
  id: string;
  name: string;
  zone: string;
  serial: string;
  /** Whether the camera plays a placeholder video. */
  video: boolean;
}

export interface DemoCameras {
  cameras: DemoCamera[];
  /** Why the cameras have no video (ffmpeg missing or refused), or null when they play one. */
  noVideoReason: string | null;
}

interface CameraPlan {
  name: string;
  zone: string;
  /** An ffmpeg lavfi source with moving content. */
  source: string;
}

const PLANS: CameraPlan[] = [
  { name: 'Main gate camera', zone: 'Main gate', source: 'testsrc2=size=640x360:rate=10' },
  { name: 'Tower crane camera', zone: 'Tower crane', source: 'mandelbrot=size=640x360:rate=10' },
  { name: 'Scaffold east camera', zone: 'Scaffold east', source: 'life=size=640x360:rate=10:mold=10:ratio=0.1:death_color=#202020:life_color=#f0c020' },
];

export const DEMO_CAMERAS_MAX = PLANS.length;

const CLIP_SECONDS = 6;
const FFMPEG_TIMEOUT_MS = 60_000;

/** A few seconds of H.264 at 640×360 from a lavfi source; rejects with ffmpeg's own words. */
function makeClip(ffmpegPath: string, source: string, file: string): Promise<void> {
  const args = [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'lavfi', '-i', source, '-t', String(CLIP_SECONDS),
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '28', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', '-an', '-y', file,
  ];
  return new Promise((resolve, reject) => {
    execFile(ffmpegPath, args, { timeout: FFMPEG_TIMEOUT_MS, killSignal: 'SIGKILL', windowsHide: true }, (error, _stdout, stderr) => {
      if (!error) return resolve();
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      reject(new Error(missing ? `ffmpeg is not installed (${ffmpegPath} was not found)` : `ffmpeg could not make the video: ${stderr.trim().split('\n').pop() ?? error.message}`));
    });
  });
}

export async function createDemoCameras(services: Services, scope: Scope, actor: Actor, options: {
  count: number;
  site: { id: string; lat: number; lon: number };
  ffmpegPath: string;
}): Promise<DemoCameras> {
  const cameras: DemoCamera[] = [];
  let noVideoReason: string | null = null;
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-demo-cameras-'));
  try {
    for (const [i, plan] of PLANS.slice(0, options.count).entries()) {
      const serial = `CAM-DEMO-${String(i + 1).padStart(4, '0')}`;
      // A few metres apart around the site's centre, spread over the floor plan.
      const made = await services.devices.create(scope, {
        kind: 'camera', name: plan.name, serial, siteId: options.site.id,
        lat: options.site.lat + (i - 1) * 0.0002, lon: options.site.lon + (i % 2) * 0.0003, settings: { demo: true },
      }, actor);
      const id = made.device.id;
      await services.cameras.configure(scope, id, { zone: plan.zone, position: { x: 0.2 + 0.3 * i, y: 0.3 + 0.2 * (i % 2) } }, actor);
      let video = false;
      if (noVideoReason === null) {
        try {
          const file = path.join(folder, `${serial}.mp4`);
          await makeClip(options.ffmpegPath, plan.source, file);
          await services.cameras.setPlaceholder(scope, id, { fileName: `${plan.zone.toLowerCase().replace(/\s+/g, '-')}-demo.mp4`, data: fs.readFileSync(file) }, actor);
          await services.cameras.configure(scope, id, { usePlaceholder: true }, actor);
          video = true;
        } catch (error) {
          // The first failure (most likely no ffmpeg) holds for every camera: the rest are made without trying again.
          noVideoReason = (error as Error).message;
        }
      }
      cameras.push({ id, name: plan.name, zone: plan.zone, serial, video });
    }
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
  return { cameras, noVideoReason };
}
