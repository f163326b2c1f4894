import { randomUUID } from 'node:crypto';
import type { Scope } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import { AppError, notFound } from '../core/http/errors.js';
import type { Actor, AuditService } from '../audit/service.js';
import { displayName } from '../maintenance/attachments.js';
import { storedPod } from './pod-files.js';
import * as store from './pod-store.js';
import { forReader, presentPodFile, type Challan } from './present.js';
import type { ChallansService } from './service.js';

const READ_URL_SECONDS = 300;

export type PodAnswer = { url: string } | { data: Buffer; type: string; fileName: string };

/**
 * Proof-of-delivery files of challans: the signed copy, attached or replaced (every version kept), served
 * only to members who may read the challan. The challan's POD upload time is set here and nowhere else.
 */
export class ChallanPodService {
  constructor(
    private readonly ctx: AppContext,
    private readonly audit: AuditService,
    private readonly challans: ChallansService,
  ) {}

  async upload(scope: Scope, challanId: string, file: { name: string | undefined; data: Buffer }, actor: Actor): Promise<Challan> {
    const challan = await this.challans.get(scope, challanId);
    if (file.data.length === 0) throw new AppError(400, 'empty_upload', 'the upload has no file', [{ field: 'file', message: 'is empty' }]);
    const pod = await storedPod(file.data, this.ctx.config.mediaMaxPixels);
    if (pod.previewProblem) this.ctx.logger.warn({ challanId, problem: pod.previewProblem }, 'no first-page preview for a proof-of-delivery PDF');
    const id = randomUUID();
    const base = `challans/${scope.orgId}/${challanId}/${id}`;
    const storageKey = `${base}.${pod.extension}`;
    const previewKey = pod.preview ? `${base}-preview.jpg` : null;
    // The files first: a row never points at a missing file; a failed insert leaves an orphan file at worst.
    await this.ctx.media.put(storageKey, pod.data, pod.contentType);
    if (pod.preview && previewKey) await this.ctx.media.put(previewKey, pod.preview, 'image/jpeg');
    await this.ctx.db.transaction().execute(async (tx) => {
      const version = await store.lockForUpload(tx, scope, challanId);
      if (version === null) throw notFound('challan');
      const fileName = displayName(file.name);
      await store.attachFile(tx, {
        id, orgId: scope.orgId, challanId, version, fileName, contentType: pod.contentType, sizeBytes: pod.data.length, storageKey, previewKey, uploadedBy: actor.userId,
      });
      await this.audit.record(actor, {
        orgId: scope.orgId, action: version === 1 ? 'challan.pod_attached' : 'challan.pod_replaced', resourceType: 'delivery_challan', resourceId: challanId,
        details: { number: challan.number, fileId: id, version, fileName, contentType: pod.contentType, sizeBytes: pod.data.length, previousFileId: challan.pod?.fileId ?? null },
      }, tx);
    });
    return this.challans.announce('challan.pod_attached', scope.orgId, await this.challans.get(scope, challanId));
  }

  /** Every file the challan had, newest first (the first one is the current one). */
  async versions(scope: Scope, challanId: string) {
    await this.challans.get(scope, challanId);
    return (await store.listFiles(this.ctx.db, scope, challanId)).map((file) => forReader(scope, presentPodFile(file)));
  }

  /** A file (any version) or its preview, for a member who may read its challan: a short-lived URL (S3) or the bytes. */
  async read(scope: Scope, fileId: string, preview = false): Promise<PodAnswer> {
    const file = await store.findFile(this.ctx.db, scope, fileId);
    const key = preview ? file?.preview_key : file?.storage_key;
    if (!file || !key) throw notFound(preview ? 'preview' : 'proof of delivery');
    const url = await this.ctx.media.readUrl(key, READ_URL_SECONDS);
    if (url) return { url };
    const data = await this.ctx.media.get(key);
    if (!data) throw notFound('proof of delivery');
    return preview ? { data, type: 'image/jpeg', fileName: 'preview.jpg' } : { data, type: file.content_type, fileName: file.file_name };
  }

  /** The challan's current file. */
  async current(scope: Scope, challanId: string): Promise<PodAnswer> {
    const challan = await this.challans.get(scope, challanId);
    if (!challan.pod) throw notFound('proof of delivery');
    return this.read(scope, challan.pod.fileId);
  }
}
