import type { FastifyInstance, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import { AppError } from './errors.js';

/**
 * One file per multipart request, for every upload route (device photos, maintenance attachments). The
 * multipart parser reports a malformed body (a boundary that does not match, a body cut short, a part
 * without headers) with plain errors that would otherwise be a 500; here each becomes a 4xx that says
 * what was wrong.
 */
export async function registerFileUploads(app: FastifyInstance, maxBytes: number): Promise<void> {
  // Text fields are read and ignored (a form may send some); a second file is refused below.
  await app.register(multipart, { limits: { fileSize: maxBytes, files: 2, fields: 10, parts: 12, headerPairs: 20 } });
}

export interface UploadedFile {
  data: Buffer;
  fileName: string | undefined;
}

/** The file of the field `field`: the whole body is read, so a second file or a cut-off body is noticed. */
export async function readSingleFile(request: FastifyRequest, field = 'file'): Promise<UploadedFile> {
  if (!request.isMultipart()) throw new AppError(415, 'multipart_required', `send the file as multipart/form-data in a field named "${field}"`);
  let found: UploadedFile | null = null;
  try {
    for await (const part of request.parts()) {
      if (part.type !== 'file') continue;
      if (found || part.fieldname !== field) {
        part.file.resume();
        throw new AppError(400, 'one_file_only', `send exactly one file, in a field named "${field}"`, [{ field: part.fieldname, message: 'is not expected' }]);
      }
      found = { data: await part.toBuffer(), fileName: part.filename };
    }
  } catch (error) {
    throw uploadError(error);
  }
  if (!found) throw new AppError(400, 'missing_file', `send the file in a multipart field named "${field}"`, [{ field, message: 'is required' }]);
  return found;
}

/**
 * A form with text fields and at most one file in `fileField` (a compatibility API's multipart create):
 * the fields as strings, the file when sent. Any other file part is refused.
 */
export async function readForm(request: FastifyRequest, fileField: string): Promise<{ fields: Record<string, string>; file: UploadedFile | null }> {
  const fields: Record<string, string> = {};
  let file: UploadedFile | null = null;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        fields[part.fieldname] = String(part.value);
        continue;
      }
      if (file || part.fieldname !== fileField) {
        part.file.resume();
        throw new AppError(400, 'one_file_only', `send at most one file, in a field named "${fileField}"`, [{ field: part.fieldname, message: 'is not expected' }]);
      }
      file = { data: await part.toBuffer(), fileName: part.filename };
    }
  } catch (error) {
    throw uploadError(error);
  }
  return { fields, file };
}

function uploadError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const { code, message } = error as { code?: string; message?: string };
  switch (code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return new AppError(413, 'file_too_large', 'the file is larger than this server accepts (MEDIA_MAX_BYTES)');
    case 'FST_FILES_LIMIT':
      return new AppError(400, 'one_file_only', 'send exactly one file per request');
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new AppError(400, 'too_many_parts', 'the form has too many fields; send only the file');
    default:
      // busboy's own errors: "Unexpected end of form", "Malformed part header", "Boundary not found", …
      return new AppError(400, 'malformed_multipart', `the multipart body could not be read (${message ?? 'malformed'}): check its boundary and that the whole body was sent`);
  }
}
