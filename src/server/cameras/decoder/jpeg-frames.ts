/**
 * Cuts ffmpeg's `image2pipe` MJPEG output into whole JPEG images: each starts with the SOI marker (FF D8)
 * and ends with the EOI marker (FF D9). Inside the compressed data a 0xFF byte is always followed by 0x00
 * or a restart marker, so FF D9 cannot appear before the image's end (ffmpeg's encoder writes no embedded
 * thumbnail). The buffer is bounded: bytes that do not become an image within `maxFrameBytes` are dropped.
 */
const SOI = Buffer.from([0xff, 0xd8]);
const EOI = Buffer.from([0xff, 0xd9]);

export class JpegFrameSplitter {
  private pending: Buffer = Buffer.alloc(0);
  /** Bytes thrown away because no whole image fitted in the bound (a sign of a broken stream). */
  droppedBytes = 0;

  constructor(private readonly maxFrameBytes = 8 * 1024 * 1024) {}

  /** Adds a chunk of ffmpeg's output and returns the images it completed. */
  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Buffer[] = [];
    for (;;) {
      const start = this.pending.indexOf(SOI);
      if (start < 0) {
        // Keep a last 0xFF: it may be the first half of the next image's marker.
        const keep = this.pending.at(-1) === 0xff ? 1 : 0;
        this.droppedBytes += this.pending.length - keep;
        this.pending = this.pending.subarray(this.pending.length - keep);
        break;
      }
      if (start > 0) {
        this.droppedBytes += start;
        this.pending = this.pending.subarray(start);
      }
      const end = this.pending.indexOf(EOI, SOI.length);
      if (end < 0) {
        if (this.pending.length > this.maxFrameBytes) {
          this.droppedBytes += this.pending.length;
          this.pending = Buffer.alloc(0);
        }
        break;
      }
      // A copy: the frame outlives the chunk it was cut from, and consumers may keep it.
      frames.push(Buffer.from(this.pending.subarray(0, end + EOI.length)));
      this.pending = this.pending.subarray(end + EOI.length);
    }
    return frames;
  }
}

/** Width and height from a JPEG's start-of-frame segment, or null when it has none. */
export function jpegSize(jpeg: Buffer): { width: number; height: number } | null {
  let offset = 2;
  while (offset + 9 < jpeg.length) {
    if (jpeg[offset] !== 0xff) return null;
    const marker = jpeg[offset + 1]!;
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: jpeg.readUInt16BE(offset + 5), width: jpeg.readUInt16BE(offset + 7) };
    }
    offset += 2 + jpeg.readUInt16BE(offset + 2);
  }
  return null;
}
