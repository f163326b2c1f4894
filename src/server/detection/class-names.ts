/**
 * Class names of a YOLO model. Ultralytics writes them into the ONNX metadata as the text of a Python dict,
 * `{0: 'Hardhat', 1: 'Mask', 2: 'NO-Hardhat'}`; an operator may also put them beside the model as JSON (a list,
 * or an object of index → name) or as plain text, one name per line. Nothing here evaluates the text.
 */
const ENTRY = /\s*(\d+)\s*:\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*(,|$)/y;

function unescapePython(text: string): string {
  return text.replace(/\\(.)/g, (_, c: string) => ({ n: '\n', t: '\t' } as Record<string, string>)[c] ?? c);
}

function listFromIndexed(entries: Map<number, string>, source: string): string[] {
  const names: string[] = [];
  for (let i = 0; i < entries.size; i++) {
    const name = entries.get(i);
    if (name === undefined) throw new Error(`${source}: class ${i} has no name (indices must run 0…${entries.size - 1})`);
    names.push(name);
  }
  return names;
}

/** Parses Ultralytics' `names` metadata: a Python dict literal of int → quoted string. */
export function parsePythonNames(text: string, source = 'names metadata'): string[] {
  const body = text.trim();
  if (!body.startsWith('{') || !body.endsWith('}')) throw new Error(`${source}: expected {0: 'name', …}, got ${JSON.stringify(body.slice(0, 60))}`);
  const inner = body.slice(1, -1).trim();
  const entries = new Map<number, string>();
  ENTRY.lastIndex = 0;
  while (ENTRY.lastIndex < inner.length) {
    const at = ENTRY.lastIndex;
    const match = ENTRY.exec(inner);
    if (!match) throw new Error(`${source}: cannot read the entry at ${JSON.stringify(inner.slice(at, at + 40))}`);
    const index = Number(match[1]);
    if (entries.has(index)) throw new Error(`${source}: class ${index} is named twice`);
    entries.set(index, unescapePython(match[2] ?? match[3] ?? ''));
    if (match[4] === '') break;
  }
  return listFromIndexed(entries, source);
}

/** Parses a sidecar file: JSON (list, or object of index → name) or plain text with one name per line. */
export function parseNamesFile(text: string, source: string): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      // Not JSON: perhaps a copy of the Python-style metadata.
      return parsePythonNames(trimmed, source);
    }
    if (Array.isArray(parsed) && parsed.every((n) => typeof n === 'string')) return parsed;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const entries = new Map<number, string>();
      for (const [key, value] of Object.entries(parsed)) {
        if (!/^\d+$/.test(key) || typeof value !== 'string') throw new Error(`${source}: expected "index": "name" pairs, got ${JSON.stringify(key)}`);
        entries.set(Number(key), value);
      }
      return listFromIndexed(entries, source);
    }
    throw new Error(`${source}: expected a list of names or an object of index → name`);
  }
  return trimmed.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
}
