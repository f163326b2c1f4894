import fs from 'node:fs';
import path from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import sharp from 'sharp';
import { AppError } from './http/errors.js';

/**
 * Where photos and other files live. Keys are Vigil's own (never taken from a URL as a path): a
 * lowercase path of safe segments, checked here so no key can leave the storage root.
 */
export interface MediaStorage {
  put(key: string, data: Buffer, contentType: string): Promise<void>;
  get(key: string): Promise<Buffer | null>;
  exists(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** A short-lived URL the browser can read the file from directly, or null to serve it through Vigil. */
  readUrl(key: string, seconds: number): Promise<string | null>;
}

const SAFE_KEY = /^[a-z0-9][a-z0-9_-]*(\/[a-z0-9][a-z0-9_.-]*)*$/i;

export function assertSafeKey(key: string): void {
  if (!SAFE_KEY.test(key) || key.split('/').some((segment) => segment === '..' || segment === '.') || key.length > 500) {
    throw new Error(`unsafe media key: ${JSON.stringify(key)}`);
  }
}

/** The embedded default: files under DATA_DIR/media, written atomically (temp file, then rename). */
export class LocalMediaStorage implements MediaStorage {
  constructor(private readonly root: string) {
    fs.mkdirSync(root, { recursive: true });
  }

  private pathOf(key: string): string {
    assertSafeKey(key);
    const full = path.resolve(this.root, key);
    if (!full.startsWith(path.resolve(this.root) + path.sep)) throw new Error(`unsafe media key: ${JSON.stringify(key)}`);
    return full;
  }

  async put(key: string, data: Buffer, _contentType: string): Promise<void> {
    const full = this.pathOf(key);
    await fs.promises.mkdir(path.dirname(full), { recursive: true });
    const temp = `${full}.${process.pid}.${Date.now()}.tmp`;
    await fs.promises.writeFile(temp, data);
    await fs.promises.rename(temp, full);
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      return await fs.promises.readFile(this.pathOf(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async exists(key: string): Promise<boolean> {
    return fs.promises.access(this.pathOf(key)).then(() => true, () => false);
  }

  async delete(key: string): Promise<void> {
    await fs.promises.rm(this.pathOf(key), { force: true });
  }

  async readUrl(): Promise<null> {
    return null;
  }
}

export interface S3Settings {
  bucket: string;
  region: string;
  endpoint?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
}

/** Any S3-compatible bucket (AWS, MinIO, R2, …). Reads go to the browser as pre-signed URLs. */
export class S3MediaStorage implements MediaStorage {
  private readonly client: S3Client;

  constructor(private readonly settings: S3Settings) {
    this.client = new S3Client({
      region: settings.region,
      endpoint: settings.endpoint,
      forcePathStyle: settings.forcePathStyle,
      credentials: settings.accessKeyId ? { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey ?? '' } : undefined,
      // Without these, S3-compatible servers that do not implement the new default checksums store
      // streamed uploads corrupted (ARCHITECTURE.md, measured facts).
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async put(key: string, data: Buffer, contentType: string): Promise<void> {
    assertSafeKey(key);
    await this.client.send(new PutObjectCommand({ Bucket: this.settings.bucket, Key: key, Body: data, ContentType: contentType }));
  }

  async get(key: string): Promise<Buffer | null> {
    assertSafeKey(key);
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: key }));
      return object.Body ? Buffer.from(await object.Body.transformToByteArray()) : null;
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchKey') return null;
      throw error;
    }
  }

  async exists(key: string): Promise<boolean> {
    assertSafeKey(key);
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.settings.bucket, Key: key }));
      return true;
    } catch (error) {
      const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404) return false;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    assertSafeKey(key);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: key }));
  }

  readUrl(key: string, seconds: number): Promise<string> {
    assertSafeKey(key);
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.settings.bucket, Key: key }), { expiresIn: seconds });
  }
}

export type ImageType = 'image/jpeg' | 'image/png' | 'image/webp';

/** The image type by content (magic bytes), never by name or declared type; null when not an accepted image. */
export function imageTypeOf(data: Buffer): ImageType | null {
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'image/jpeg';
  if (data.length >= 8 && data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (data.length >= 12 && data.toString('ascii', 0, 4) === 'RIFF' && data.toString('ascii', 8, 12) === 'WEBP') return 'image/webp';
  return null;
}

export type DocumentType = ImageType | 'application/pdf';

/** An accepted image or a PDF, by content (a PDF starts with `%PDF-`); null for anything else. */
export function documentTypeOf(data: Buffer): DocumentType | null {
  if (data.length >= 5 && data.toString('ascii', 0, 5) === '%PDF-') return 'application/pdf';
  return imageTypeOf(data);
}

/**
 * What Vigil stores and serves of an uploaded image: a JPEG re-encoded from its pixels, never the bytes
 * that were sent. Its size is checked from the header before any pixel is decoded (a few kilobytes of PNG
 * can declare 16383 × 16383 pixels: a gigabyte of memory and seconds of CPU to decode); the copy is turned
 * upright and carries no metadata (EXIF with GPS position, camera serials, comments), and nothing a
 * browser could take for something other than an image.
 */
export async function reencodeImage(data: Buffer, maxPixels: number): Promise<Buffer> {
  const header = await sharp(data).metadata().catch(() => null);
  if (!header?.width || !header.height) throw unreadableImage();
  const pixels = header.width * header.height;
  if (pixels > maxPixels) {
    const megapixels = (count: number) => `${Math.round(count / 100_000) / 10} megapixels`;
    throw new AppError(413, 'image_too_large', `the image is ${header.width} × ${header.height} pixels (${megapixels(pixels)}); at most ${megapixels(maxPixels)} are accepted`, {
      width: header.width, height: header.height, maxPixels,
    });
  }
  try {
    // limitInputPixels holds even if the header lied; transparent areas become white, as a JPEG has no alpha.
    return await sharp(data, { limitInputPixels: maxPixels }).rotate().flatten({ background: '#ffffff' }).jpeg({ quality: 85 }).toBuffer();
  } catch {
    throw unreadableImage();
  }
}

const unreadableImage = () => new AppError(415, 'unreadable_image', 'the image could not be decoded');
