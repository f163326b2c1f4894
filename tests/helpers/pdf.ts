import zlib from 'node:zlib';

/** The text of a pdfkit document: its content streams inflated, the hex strings of each TJ array joined. */
export function pdfText(pdf: Buffer): string {
  const lines: string[] = [];
  for (const content of pdfContentStreams(pdf)) {
    for (const array of content.matchAll(/\[([^\]]*)\]\s*TJ/g)) {
      lines.push([...array[1]!.matchAll(/<([0-9a-fA-F]*)>/g)].map((h) => Buffer.from(h[1]!, 'hex').toString('latin1')).join(''));
    }
  }
  return lines.join('\n');
}

/** The inflated content streams of a pdfkit document (drawing operators and text), in file order. */
export function pdfContentStreams(pdf: Buffer): string[] {
  const contents: string[] = [];
  const raw = pdf.toString('latin1');
  const streams = /stream\r?\n/g;
  let match: RegExpExecArray | null;
  while ((match = streams.exec(raw))) {
    const start = match.index + match[0].length;
    const end = raw.indexOf('endstream', start);
    try {
      contents.push(zlib.inflateSync(pdf.subarray(start, end)).toString('latin1'));
    } catch {
      continue;
    }
  }
  return contents;
}
