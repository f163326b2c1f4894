import { randomUUID } from 'node:crypto';
import type { Scope } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import { AppError, notFound } from '../core/http/errors.js';
import { documentTypeOf, reencodeImage } from '../core/media.js';
import type { Actor, AuditService } from '../audit/service.js';
import { presentAttachment } from './present.js';
import * as store from './store.js';

export const MAX_ATTACHMENTS_PER_RECORD = 20;
const READ_URL_SECONDS = 300;
const PURGE_BATCH = 500;
const EXTENSIONS: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp', 'application/pdf': 'pdf' };

/**
 * A name fit to show and to send back in Content-Disposition: the last path segment of what the
 * browser sent, without control or quoting characters. Storage keys never use it.
 */
export function displayName(name: string | undefined): string {
  const base = (name ?? '').split(/[/\\]/).pop() ?? '';
  const clean = [...base].filter((ch) => ch.charCodeAt(0) >= 0x20 && ch.charCodeAt(0) !== 0x7f && !'"<>|*?:'.includes(ch)).join('').trim().slice(0, 200);
  return clean === '' || clean === '.' || clean === '..' ? 'attachment' : clean;
}

export type AttachmentAnswer = { url: string } | { data: Buffer; type: string; fileName: string };

/** Photos and PDFs attached to maintenance records (the media storage; served only to who may see the device). */
export class MaintenanceAttachmentsService {
  constructor(
    private readonly ctx: AppContext,
    private readonly audit: AuditService,
  ) {}

  async add(scope: Scope, recordId: string, file: { name: string | undefined; data: Buffer }, actor: Actor) {
    const record = await store.findRecord(this.ctx.db, scope, recordId);
    if (!record) throw notFound('maintenance record');
    if (file.data.length === 0) throw new AppError(400, 'empty_upload', 'the upload has no file', [{ field: 'file', message: 'is empty' }]);
    const sent = documentTypeOf(file.data);
    if (!sent) throw new AppError(415, 'unsupported_file', 'only JPEG, PNG or WebP images and PDF documents are accepted', [{ field: 'file', message: 'is not an image or a PDF' }]);
    if ((await store.countAttachments(this.ctx.db, recordId)) >= MAX_ATTACHMENTS_PER_RECORD) {
      throw new AppError(409, 'too_many_attachments', `a record has at most ${MAX_ATTACHMENTS_PER_RECORD} attachments`);
    }
    // Images are kept as a re-encoded JPEG (pixel count checked first, metadata such as GPS dropped); PDFs as sent.
    const data = sent === 'application/pdf' ? file.data : await reencodeImage(file.data, this.ctx.config.mediaMaxPixels);
    const type = sent === 'application/pdf' ? sent : 'image/jpeg';
    const id = randomUUID();
    const storageKey = `maintenance/${scope.orgId}/${recordId}/${id}.${EXTENSIONS[type]}`;
    // The file first: a row never points at a missing file; a failed insert leaves an orphan file at worst.
    await this.ctx.media.put(storageKey, data, type);
    const row = await this.ctx.db.transaction().execute(async (tx) => {
      const inserted = await store.insertAttachment(tx, {
        id, orgId: scope.orgId, recordId, fileName: displayName(file.name), contentType: type, sizeBytes: data.length, storageKey, createdBy: actor.userId,
      });
      await this.audit.record(actor, {
        orgId: scope.orgId, action: 'maintenance.attachment_added', resourceType: 'maintenance_record', resourceId: recordId,
        details: { attachmentId: id, fileName: inserted.file_name, contentType: type, sizeBytes: data.length },
      }, tx);
      return inserted;
    });
    const attachment = presentAttachment(row);
    await this.ctx.bus.publish({ type: 'maintenance.attachment_added', orgId: scope.orgId, siteId: record.site_id, data: { recordId, deviceId: record.device_id, attachment } });
    return attachment;
  }

  /** The file, for a caller who may see the record's device: a short-lived URL (S3) or the bytes. */
  async read(scope: Scope, id: string): Promise<AttachmentAnswer> {
    const attachment = await store.findAttachment(this.ctx.db, scope, id);
    if (!attachment) throw notFound('attachment');
    const url = await this.ctx.media.readUrl(attachment.storage_key, READ_URL_SECONDS);
    if (url) return { url };
    const data = await this.ctx.media.get(attachment.storage_key);
    if (!data) throw notFound('attachment');
    return { data, type: attachment.content_type, fileName: attachment.file_name };
  }

  async remove(scope: Scope, id: string, actor: Actor): Promise<void> {
    const attachment = await store.findAttachment(this.ctx.db, scope, id);
    if (!attachment) throw notFound('attachment');
    await this.ctx.db.transaction().execute(async (tx) => {
      await store.deleteAttachment(tx, scope.orgId, id);
      await this.audit.record(actor, {
        orgId: scope.orgId, action: 'maintenance.attachment_removed', resourceType: 'maintenance_record', resourceId: attachment.record_id,
        details: { attachmentId: id, fileName: attachment.file_name },
      }, tx);
    });
    await this.purgeDeletedFiles();
    await this.ctx.bus.publish({
      type: 'maintenance.attachment_removed', orgId: scope.orgId, siteId: attachment.site_id, data: { recordId: attachment.record_id, deviceId: attachment.device_id, attachmentId: id },
    });
  }

  /**
   * Removes from the media storage the files of deleted attachments (queued by the database whatever
   * deleted them: the attachment, its record, device or organization). Run after deletes and by a job.
   */
  async purgeDeletedFiles(): Promise<number> {
    let removed = 0;
    for (const key of await store.queuedFileDeletions(this.ctx.db, PURGE_BATCH)) {
      try {
        await this.ctx.media.delete(key);
        await store.forgetFileDeletion(this.ctx.db, key);
        removed += 1;
      } catch (error) {
        // Stays queued for the next run; the delete the user asked for has happened.
        this.ctx.logger.warn({ err: error, key }, 'could not remove a maintenance attachment file; will retry');
      }
    }
    return removed;
  }
}
