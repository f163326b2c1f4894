import sharp from 'sharp';
import type { PodContentType } from '../core/db/schema.js';
import { AppError } from '../core/http/errors.js';
import { imageTypeOf, reencodeImage } from '../core/media.js';
import { pdfPreview } from './pdf-preview.js';

/**
 * What a proof-of-delivery file is, by its content (never its name or declared type): a PDF, a JPEG or PNG
 * (a photo of the signed copy), a Word document (DOC: an OLE2 compound file with a WordDocument stream;
 * DOCX: a zip with `word/` entries).
 */
export type PodKind = 'pdf' | 'jpeg' | 'png' | 'doc' | 'docx';

const OLE2 = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
// The stream name as a compound file's directory stores it (UTF-16LE).
const WORD_STREAM = Buffer.from('WordDocument', 'utf16le');
const ZIP_LOCAL = 0x04034b50;
const ZIP_CENTRAL = 0x02014b50;
const ZIP_END = 0x06054b50;
/** Enough for any Word document's parts; a zip listing more is not read further. */
const MAX_ZIP_ENTRIES = 5000;

export function podKindOf(data: Buffer): PodKind | null {
  if (data.length >= 5 && data.toString('ascii', 0, 5) === '%PDF-') return 'pdf';
  const image = imageTypeOf(data);
  if (image === 'image/jpeg') return 'jpeg';
  if (image === 'image/png') return 'png';
  if (data.length >= 512 && data.subarray(0, 8).equals(OLE2) && data.includes(WORD_STREAM)) return 'doc';
  if (data.length >= 30 && data.readUInt32LE(0) === ZIP_LOCAL && isWordZip(data)) return 'docx';
  return null;
}

/** The entry names of a zip's central directory (bounded), or null when it cannot be read (or is ZIP64). */
function zipEntryNames(data: Buffer): string[] | null {
  // The end record is in the last 22 bytes plus at most a 64 KB comment.
  const earliest = Math.max(0, data.length - 22 - 0xffff);
  let end = -1;
  for (let at = data.length - 22; at >= earliest; at--) {
    if (data.readUInt32LE(at) === ZIP_END) {
      end = at;
      break;
    }
  }
  if (end < 0) return null;
  const count = data.readUInt16LE(end + 10);
  let at = data.readUInt32LE(end + 16);
  if (count === 0xffff || at === 0xffffffff) return null;
  const names: string[] = [];
  for (let i = 0; i < Math.min(count, MAX_ZIP_ENTRIES); i++) {
    if (at + 46 > data.length || data.readUInt32LE(at) !== ZIP_CENTRAL) return null;
    const nameLength = data.readUInt16LE(at + 28);
    const next = at + 46 + nameLength + data.readUInt16LE(at + 30) + data.readUInt16LE(at + 32);
    if (next > data.length) return null;
    names.push(data.toString('utf8', at + 46, at + 46 + nameLength));
    at = next;
  }
  return names;
}

function isWordZip(data: Buffer): boolean {
  const names = zipEntryNames(data);
  return names !== null && names.includes('[Content_Types].xml') && names.some((name) => name.startsWith('word/'));
}

export interface StoredPod {
  data: Buffer;
  contentType: PodContentType;
  extension: string;
  /** A small JPEG for the register: the image itself, or a PDF's first page. */
  preview: Buffer | null;
  /** Why a PDF has no preview (for the log). */
  previewProblem?: string;
}

const PREVIEW_WIDTH = 320;

/**
 * What is kept of an uploaded file: images re-encoded as JPEG (pixel count checked first; EXIF such as
 * the GPS position of the phone that took the photo dropped) with a thumbnail; documents as sent, a PDF
 * with its first page drawn when it can be (pdf-preview.ts: bounded in time and size, never failing the upload).
 */
export async function storedPod(data: Buffer, maxPixels: number): Promise<StoredPod> {
  const kind = podKindOf(data);
  switch (kind) {
    case 'pdf': {
      const drawn = await pdfPreview(data);
      const preview = 'jpeg' in drawn ? drawn.jpeg : null;
      return { data, contentType: 'application/pdf', extension: 'pdf', preview, previewProblem: 'problem' in drawn ? `${drawn.problem}: ${drawn.detail}` : undefined };
    }
    case 'doc':
      return { data, contentType: 'application/msword', extension: 'doc', preview: null };
    case 'docx':
      return { data, contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', extension: 'docx', preview: null };
    case 'jpeg':
    case 'png': {
      const jpeg = await reencodeImage(data, maxPixels);
      const preview = await sharp(jpeg).resize({ width: PREVIEW_WIDTH, withoutEnlargement: true }).jpeg({ quality: 75 }).toBuffer();
      return { data: jpeg, contentType: 'image/jpeg', extension: 'jpg', preview };
    }
    default:
      throw new AppError(415, 'unsupported_file', 'a proof of delivery must be a PDF, a JPEG or PNG image, or a Word document (DOC or DOCX)', [
        { field: 'file', message: 'is not a PDF, JPEG, PNG, DOC or DOCX file (checked by its content)' },
      ]);
  }
}
