import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { scopeOf } from '../core/access.js';
import { AppError } from '../core/http/errors.js';
import { errors, IdParams } from '../core/http/schemas.js';
import { readSingleFile, registerFileUploads } from '../core/http/uploads.js';
import { requestActor } from '../audit/service.js';
import type { ChallanPodService, PodAnswer } from './pod.js';
import { Challan, PodFile, storedFile } from './schemas.js';

/** A Content-Disposition filename: ASCII fallback plus the exact name, RFC 6266. */
function disposition(kind: 'inline' | 'attachment', fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

function sendFile(reply: FastifyReply, file: PodAnswer) {
  if ('url' in file) return reply.header('cache-control', 'private, no-store').redirect(file.url, 302);
  // Only the re-encoded JPEGs are shown inline; documents are downloaded, and nothing served runs as a page.
  return reply
    .type(file.type)
    .header('content-disposition', disposition(file.type === 'image/jpeg' ? 'inline' : 'attachment', file.fileName))
    .header('content-security-policy', "default-src 'none'; sandbox")
    .header('cache-control', 'private, max-age=300')
    .send(file.data);
}

/** The uploaded file; an oversize one is refused with this route's own limit (CHALLAN_POD_MAX_BYTES). */
async function readPod(request: FastifyRequest, maxBytes: number) {
  try {
    return await readSingleFile(request);
  } catch (error) {
    if (!(error instanceof AppError) || error.code !== 'file_too_large') throw error;
    const limit = maxBytes >= 1024 * 1024 ? `${Math.floor(maxBytes / (1024 * 1024))} MB` : `${maxBytes} bytes`;
    throw new AppError(413, 'file_too_large', `a proof of delivery may be at most ${limit}`, [{ field: 'file', message: `is larger than ${limit}` }]);
  }
}

/** Proof-of-delivery files: upload (attach or replace, every version kept) and downloads for who may read the challan. */
export function challanPodRoutes(pods: ChallanPodService, maxBytes: number) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['challans'];
    await registerFileUploads(app, maxBytes);

    app.post('/api/v1/challans/:id/pod', {
      config: { access: 'challan.write' },
      schema: {
        tags, summary: 'Attach or replace the proof of delivery: PDF, JPEG, PNG, DOC or DOCX in the multipart field "file" (checked by content, size-limited); the previous file is kept as a version',
        consumes: ['multipart/form-data'], params: IdParams, response: { 201: Challan, ...errors(400, 401, 403, 404, 413, 415) },
      },
    }, async (request, reply) => {
      const scope = scopeOf(request);
      const file = await readPod(request, maxBytes);
      return reply.code(201).send(await pods.upload(scope, request.params.id, { name: file.fileName, data: file.data }, requestActor(request)));
    });

    app.get('/api/v1/challans/:id/pod', {
      config: { access: 'challan.read' },
      schema: { tags, summary: "The challan's current proof of delivery (with S3, a redirect to a 5-minute signed URL)", params: IdParams, response: { 200: storedFile, ...errors(401, 403, 404) } },
    }, async (request, reply) => sendFile(reply, await pods.current(scopeOf(request), request.params.id)));

    app.get('/api/v1/challans/:id/pod/versions', {
      config: { access: 'challan.read' },
      schema: { tags, summary: 'Every proof-of-delivery file the challan had, newest first', params: IdParams, response: { 200: Type.Object({ items: Type.Array(PodFile) }), ...errors(401, 403, 404) } },
    }, async (request) => ({ items: await pods.versions(scopeOf(request), request.params.id) }));

    app.get('/api/v1/challans/pod-files/:id', {
      config: { access: 'challan.read' },
      schema: { tags, summary: 'One proof-of-delivery file (any version) of a challan you may see', params: IdParams, response: { 200: storedFile, ...errors(401, 403, 404) } },
    }, async (request, reply) => sendFile(reply, await pods.read(scopeOf(request), request.params.id)));

    app.get('/api/v1/challans/pod-files/:id/preview', {
      config: { access: 'challan.read' },
      schema: { tags, summary: 'A small JPEG of an image proof of delivery or of the first page of a PDF (404 when there is none: Word documents, PDFs that could not be drawn)', params: IdParams, response: { 200: storedFile, ...errors(401, 403, 404) } },
    }, async (request, reply) => sendFile(reply, await pods.read(scopeOf(request), request.params.id, true)));
  };
}
