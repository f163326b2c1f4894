import type { Scope } from '../core/access.js';
import type { Db, Tx } from '../core/db/database.js';
import type { PodContentType } from '../core/db/schema.js';
import { inScope } from '../core/db/scope.js';
import { READABLE } from './store.js';

/** Every SQL statement about proof-of-delivery files: a file is seen through its (live) challan's scope. */
type Conn = Db | Tx;

const FILE_COLUMNS = [
  'p.id', 'p.challan_id', 'p.version', 'p.file_name', 'p.content_type', 'p.size_bytes', 'p.storage_key', 'p.preview_key',
  'p.uploaded_at', 'p.uploaded_by', 'u.name as uploaded_by_name',
] as const;

function visibleFiles(db: Conn, scope: Scope) {
  return db.selectFrom('challan_pod_files as p')
    .innerJoin('delivery_challans as c', 'c.id', 'p.challan_id')
    .leftJoin('users as u', 'u.id', 'p.uploaded_by')
    .select([...FILE_COLUMNS, 'c.pod_file_id as current_file_id'])
    .where(inScope(scope, 'c', READABLE))
    .where('c.deleted_at', 'is', null);
}

export type PodFileRow = Awaited<ReturnType<typeof findFile>> & {};

export function findFile(db: Conn, scope: Scope, id: string) {
  return visibleFiles(db, scope).where('p.id', '=', id).executeTakeFirst();
}

/** A challan's files, newest version first. */
export function listFiles(db: Conn, scope: Scope, challanId: string) {
  return visibleFiles(db, scope).where('p.challan_id', '=', challanId).orderBy('p.version', 'desc').execute();
}

/** Locks the challan (concurrent uploads take versions one after the other) and answers its next version. */
export async function lockForUpload(db: Tx, scope: Scope, challanId: string): Promise<number | null> {
  const challan = await db.selectFrom('delivery_challans as c').select('c.id').where(inScope(scope, 'c', READABLE))
    .where('c.id', '=', challanId).where('c.deleted_at', 'is', null).forUpdate().executeTakeFirst();
  if (!challan) return null;
  const row = await db.selectFrom('challan_pod_files').select((eb) => eb.fn.max('version').as('last'))
    .where('challan_id', '=', challanId).executeTakeFirstOrThrow();
  return (row.last ?? 0) + 1;
}

export interface NewPodFile {
  id: string;
  orgId: string;
  challanId: string;
  version: number;
  fileName: string;
  contentType: PodContentType;
  sizeBytes: number;
  storageKey: string;
  previewKey: string | null;
  uploadedBy: string | null;
}

/** Adds the file and makes it the challan's current one; the upload time is the database's clock. */
export async function attachFile(db: Tx, file: NewPodFile): Promise<Date> {
  const row = await db.insertInto('challan_pod_files')
    .values({
      id: file.id, org_id: file.orgId, challan_id: file.challanId, version: file.version, file_name: file.fileName, content_type: file.contentType,
      size_bytes: file.sizeBytes, storage_key: file.storageKey, preview_key: file.previewKey, uploaded_by: file.uploadedBy,
    })
    .returning('uploaded_at')
    .executeTakeFirstOrThrow();
  await db.updateTable('delivery_challans')
    .set({ pod_file_id: file.id, pod_uploaded_at: row.uploaded_at, updated_at: row.uploaded_at, updated_by: file.uploadedBy })
    .where('org_id', '=', file.orgId).where('id', '=', file.challanId)
    .execute();
  return row.uploaded_at;
}
