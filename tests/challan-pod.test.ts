import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import PDFDocument from 'pdfkit';
import sharp from 'sharp';
import { pdfPreview, PDF_PREVIEW } from '../src/server/challans/pdf-preview.js';
import { startTestApp, type ApiClient, type SignedIn, type TestApp } from './helpers/app.js';

/** A multipart/form-data body with one file field, as a browser sends it. */
function upload(client: ApiClient, url: string, data: Buffer, fileName: string) {
  const boundary = `----vigil${Math.random().toString(16).slice(2)}`;
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return client.request('POST', url, body, { 'content-type': `multipart/form-data; boundary=${boundary}` });
}

async function realPdf(text: string): Promise<Buffer> {
  const doc = new PDFDocument({ size: 'A6' });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve) => doc.on('end', () => resolve(Buffer.concat(chunks))));
  doc.text(text);
  doc.end();
  return done;
}

/** A page of `size` points with its top half red and the rest white: what its preview must show. */
async function redTopPdf(size: [number, number] = [300, 400]): Promise<Buffer> {
  const doc = new PDFDocument({ size, margin: 0 });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve) => doc.on('end', () => resolve(Buffer.concat(chunks))));
  doc.rect(0, 0, size[0], size[1] / 2).fill('#d00000');
  doc.addPage().text('Second page, never drawn');
  doc.end();
  return done;
}

/** This process's PDF-drawing children still alive (a killed one loses its command line at once). */
function previewChildren(): string[] {
  return fs.readdirSync('/proc').filter((pid) => {
    try {
      const ppid = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1];
      return ppid === String(process.pid) && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('pdf-preview-child');
    } catch {
      return false;
    }
  });
}

/** The colour of the pixel at (x, y) of a JPEG. */
async function pixel(jpeg: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return [...data.subarray(at, at + 3)];
}

/** A zip of stored (uncompressed) entries, as Word writes a DOCX (there with deflate; the check reads only names). */
function zip(entries: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(entries)) {
    const data = Buffer.from(text);
    const nameBytes = Buffer.from(name);
    const crc = zlib.crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(centrals.length / 2, 8);
  end.writeUInt16LE(centrals.length / 2, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const DOCX = zip({ '[Content_Types].xml': '<Types/>', 'word/document.xml': '<w:document/>' });
const XLSX = zip({ '[Content_Types].xml': '<Types/>', 'xl/workbook.xml': '<workbook/>' });
/** An OLE2 compound file whose directory names a WordDocument stream, as a .doc has. */
const DOC = Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(504), Buffer.from('WordDocument', 'utf16le'), Buffer.alloc(488)]);

describe('proof of delivery files', () => {
  let app: TestApp;
  let owner: SignedIn;
  let north: string;
  let south: string;
  let customerId: string;
  let pdf: Buffer;
  let png: Buffer;
  let jpeg: Buffer;

  before(async () => {
    app = await startTestApp({ challanPodMaxBytes: 64 * 1024 });
    owner = await app.owner('POD Office');
    north = (await owner.client.post('/api/v1/sites', { name: 'North' })).body.id;
    south = (await owner.client.post('/api/v1/sites', { name: 'South' })).body.id;
    customerId = (await owner.client.post('/api/v1/customers', { name: 'Signed Copies Ltd', tag: 'SCL' })).body.id;
    pdf = await realPdf('Received in good condition. Signed: R. Kumar');
    png = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 20, g: 120, b: 200 } } }).png().toBuffer();
    jpeg = await sharp(png).jpeg().withExif({ IFD0: { Artist: 'Phone of R. Kumar' } }).toBuffer();
  });
  after(async () => app.close());

  const newChallan = async (fields: Record<string, unknown> = {}) =>
    (await owner.client.post('/api/v1/challans', { customerId, challanDate: '2025-08-01', description: 'Printer paper', siteId: north, ...fields })).body as { id: string; number: string };
  const attach = (client: ApiClient, id: string, data: Buffer, name: string) => upload(client, `/api/v1/challans/${id}/pod`, data, name);

  it('accepts PDF, JPEG, PNG, DOC and DOCX by their content; refuses other content, whatever the name, and oversize files', async () => {
    const challan = await newChallan();
    for (const [data, name, type] of [[pdf, 'pod.pdf', 'application/pdf'], [DOCX, 'pod.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'], [DOC, 'pod.doc', 'application/msword'], [png, 'photo.png', 'image/jpeg'], [jpeg, 'photo.jpg', 'image/jpeg']] as const) {
      const response = await attach(owner.client, challan.id, data, name);
      assert.equal(response.status, 201, `${name}: ${JSON.stringify(response.body)}`);
      assert.equal(response.body.pod.contentType, type, name);
    }
    for (const [data, name] of [[Buffer.from('just some text, not a PDF'), 'fake.pdf'], [XLSX, 'sheet.docx'], [Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, ...Buffer.alloc(600)]), 'other.doc']] as const) {
      const refused = await attach(owner.client, challan.id, data, name);
      assert.equal(refused.status, 415, name);
      assert.equal(refused.body.error.details[0].field, 'file');
    }
    const big = await attach(owner.client, challan.id, Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(70 * 1024)]), 'big.pdf');
    assert.equal(big.status, 413);
    assert.match(big.body.error.message, /64 KB|65536 bytes/);
  });

  it('an image gets a JPEG copy without metadata and a thumbnail; a PDF is kept as sent, with its first page as preview', async () => {
    const challan = await newChallan();
    const photo = await attach(owner.client, challan.id, jpeg, 'signed.jpg');
    const preview = await app.runtime.app.inject({ method: 'GET', url: photo.body.pod.previewUrl, headers: { cookie: owner.client.cookie! } });
    assert.equal(preview.statusCode, 200);
    assert.equal(preview.headers['content-type'], 'image/jpeg');
    assert.equal((await sharp(preview.rawPayload).metadata()).width, 320);
    const stored = await app.runtime.app.inject({ method: 'GET', url: photo.body.pod.url, headers: { cookie: owner.client.cookie! } });
    const full = await sharp(stored.rawPayload).metadata();
    assert.deepEqual([full.format, full.width, full.exif], ['jpeg', 640, undefined]);
    const signed = await redTopPdf();
    const document = await attach(owner.client, challan.id, signed, 'signed.pdf');
    assert.ok(document.body.pod.previewUrl, 'the PDF has a preview');
    const page = await app.runtime.app.inject({ method: 'GET', url: document.body.pod.previewUrl, headers: { cookie: owner.client.cookie! } });
    assert.equal(page.statusCode, 200);
    assert.equal(page.headers['content-type'], 'image/jpeg');
    const drawn = await sharp(page.rawPayload).metadata();
    assert.deepEqual([drawn.width, drawn.height], [320, 427], 'the first page at 320 px wide, in its proportions');
    const [top, bottom] = [await pixel(page.rawPayload, 160, 100), await pixel(page.rawPayload, 160, 330)];
    assert.ok(top[0]! > 180 && top[1]! < 60 && top[2]! < 60, `the top half is red: ${top}`);
    assert.ok(bottom.every((c) => c > 230), `the bottom half is white: ${bottom}`);
    const download = await app.runtime.app.inject({ method: 'GET', url: `/api/v1/challans/${challan.id}/pod`, headers: { cookie: owner.client.cookie! } });
    assert.equal(download.statusCode, 200);
    assert.ok(download.rawPayload.equals(signed), 'the PDF is served byte for byte');
    assert.match(String(download.headers['content-disposition']), /^attachment; filename="signed.pdf"/);
  });

  it('a PDF that cannot be drawn is still stored, without a preview; an outsized page is drawn within the limits', async () => {
    const challan = await newChallan();
    const broken = await attach(owner.client, challan.id, Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage'), 'broken.pdf');
    assert.equal(broken.status, 201);
    assert.equal(broken.body.pod.previewUrl, null);
    assert.equal((await owner.client.get(`/api/v1/challans/pod-files/${broken.body.pod.fileId}/preview`)).status, 404);
    const tall = await attach(owner.client, challan.id, await redTopPdf([10, 14_400]), 'tall.pdf');
    const page = await app.runtime.app.inject({ method: 'GET', url: tall.body.pod.previewUrl, headers: { cookie: owner.client.cookie! } });
    const drawn = await sharp(page.rawPayload).metadata();
    assert.deepEqual([drawn.width, drawn.height], [PDF_PREVIEW.width, PDF_PREVIEW.maxHeight], 'only the top of a very tall page');
  });

  it('a PDF drawing past its time limit is abandoned: its process is killed and there is no preview', async () => {
    const slow = await pdfPreview(await redTopPdf(), { ...PDF_PREVIEW, timeoutMs: 1 });
    assert.deepEqual(slow, { problem: 'timeout', detail: 'not drawn within 1 ms' });
    for (let waited = 0; previewChildren().length > 0 && waited < 5000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(previewChildren(), [], 'no drawing process is left running');
    const drawn = await pdfPreview(await redTopPdf());
    assert.ok('jpeg' in drawn, 'the next one is drawn');
  });

  it('the upload time is set by the server on attach and replace only; replacing keeps every version', async () => {
    const challan = await newChallan();
    const before = Date.now();
    const first = await attach(owner.client, challan.id, pdf, 'first.pdf');
    const attachedAt = Date.parse(first.body.podUploadedAt);
    assert.ok(attachedAt >= before - 1000 && attachedAt <= Date.now() + 1000, 'the server clock sets it');
    const edited = await owner.client.patch(`/api/v1/challans/${challan.id}`, { description: 'Printer paper, 12 reams', podUploadedAt: '2020-01-01T00:00:00Z' });
    assert.equal(edited.body.podUploadedAt, first.body.podUploadedAt, 'other edits leave it alone');
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await attach(owner.client, challan.id, png, 'second.png');
    assert.ok(Date.parse(second.body.podUploadedAt) > attachedAt, 'a replacement moves it');
    assert.equal(second.body.pod.version, 2);

    const versions = await owner.client.get(`/api/v1/challans/${challan.id}/pod/versions`);
    assert.deepEqual(versions.body.items.map((v: { version: number; current: boolean; fileName: string }) => [v.version, v.current, v.fileName]), [[2, true, 'second.png'], [1, false, 'first.pdf']]);
    const old = await app.runtime.app.inject({ method: 'GET', url: versions.body.items[1].url, headers: { cookie: owner.client.cookie! } });
    assert.ok(old.rawPayload.equals(pdf), 'the replaced file is still there');
    const audit = await owner.client.get('/api/v1/audit?resourceType=delivery_challan');
    const actions = audit.body.items.filter((e: { resourceId: string }) => e.resourceId === challan.id).map((e: { action: string }) => e.action);
    assert.deepEqual(actions.filter((a: string) => a.startsWith('challan.pod')).sort(), ['challan.pod_attached', 'challan.pod_replaced']);
    const received = await owner.client.get(`/api/v1/challans?pod=received&podFrom=${new Date().toISOString().slice(0, 10)}&from=2025-08-01&to=2025-08-01`);
    assert.ok(received.body.items.some((r: { id: string }) => r.id === challan.id), 'the POD date filter finds it');
  });

  it('files are served only to members who may read the challan: others get 404; viewers read but cannot upload', async () => {
    const challan = await newChallan();
    const file = (await attach(owner.client, challan.id, pdf, 'pod.pdf')).body.pod;
    const viewer = await app.member(owner, 'viewer');
    const southClerk = await app.member(owner, 'operator', [south]);
    const other = await app.owner('Someone Else');
    const urls = [`/api/v1/challans/${challan.id}/pod`, file.url, `/api/v1/challans/${challan.id}/pod/versions`];
    for (const url of urls) assert.equal((await viewer.client.get(url)).status, 200, url);
    for (const who of [southClerk, other]) {
      for (const url of urls) assert.equal((await who.client.get(url)).status, 404, url);
    }
    assert.equal((await attach(other.client, challan.id, pdf, 'pod.pdf')).status, 404);
    assert.equal((await attach(viewer.client, challan.id, pdf, 'pod.pdf')).status, 403);
    assert.equal((await owner.client.delete(`/api/v1/challans/${challan.id}`)).status, 204);
    assert.equal((await owner.client.get(file.url)).status, 404, "a deleted challan's file is not served");
  });
});
