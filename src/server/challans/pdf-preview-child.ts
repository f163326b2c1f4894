import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * Draws the first page of one PDF as a small JPEG, in a process of its own: an uploaded PDF is hostile input,
 * so its parser runs where a stall, a memory blow-up or a crash costs only this process, which the server kills
 * after its time limit (pdf-preview.ts). It answers once over IPC and exits.
 */
export interface PreviewRequest {
  data: Uint8Array;
  width: number;
  maxHeight: number;
  maxImagePixels: number;
}
export type PreviewReply = { jpeg: Uint8Array; width: number; height: number } | { problem: 'unavailable' | 'unreadable'; detail: string };

async function render(request: PreviewRequest): Promise<PreviewReply> {
  let pdfjs: typeof import('pdfjs-dist/legacy/build/pdf.mjs');
  let canvas: typeof import('@napi-rs/canvas');
  try {
    pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
    canvas = await import('@napi-rs/canvas');
  } catch (error) {
    return { problem: 'unavailable', detail: error instanceof Error ? error.message : String(error) };
  }
  const root = path.dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));
  const document = await pdfjs.getDocument({
    data: new Uint8Array(request.data), // a copy: PDF.js refuses a Buffer
    isEvalSupported: false, // a PDF's fonts never become code
    disableFontFace: true,
    maxImageSize: request.maxImagePixels, // images larger than this are not decoded at all
    standardFontDataUrl: `${root}/standard_fonts/`,
    cMapUrl: `${root}/cmaps/`,
    cMapPacked: true,
    verbosity: 0,
  }).promise;
  try {
    const page = await document.getPage(1);
    const natural = page.getViewport({ scale: 1 });
    if (!(natural.width > 0 && natural.height > 0)) return { problem: 'unreadable', detail: 'the first page has no size' };
    // However large the page says it is, the drawing is `width` wide and at most `maxHeight` tall (the top of a tall page).
    const viewport = page.getViewport({ scale: request.width / natural.width });
    const height = Math.max(1, Math.min(request.maxHeight, Math.ceil(viewport.height)));
    const surface = canvas.createCanvas(request.width, height);
    const context = surface.getContext('2d');
    context.fillStyle = '#ffffff';
    context.fillRect(0, 0, request.width, height);
    await page.render({ canvas: surface as unknown as HTMLCanvasElement, canvasContext: context as unknown as CanvasRenderingContext2D, viewport }).promise;
    return { jpeg: surface.toBuffer('image/jpeg', 75), width: request.width, height };
  } finally {
    await document.destroy();
  }
}

process.once('message', (request: PreviewRequest) => {
  render(request)
    .catch((error: unknown): PreviewReply => ({ problem: 'unreadable', detail: error instanceof Error ? error.message : String(error) }))
    .then((reply) => process.send!(reply, () => process.exit(0)));
});
