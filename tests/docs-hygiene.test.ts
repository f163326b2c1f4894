import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from './helpers/process.js';

/**
 * The README and docs/ are read by Vigil's users and operators, who have this repository and nothing beside it:
 * no links to files outside it, and no section numbers of documents they cannot open.
 */
describe('documentation', () => {
  const files = ['README.md', ...fs.readdirSync(path.join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

  it('cites no file outside the repository and no section of an unpublished document', () => {
    const problems = files.flatMap((file) => fs.readFileSync(path.join(REPO_ROOT, file), 'utf8').split('\n').flatMap((line, i) => {
      const found = [/\.\.\/shared\b|ARCHITECTURE\.md|specs\//.exec(line)?.[0], /§\s*\d/.exec(line)?.[0], /\[(?:BUG|GAP|REC)\]/.exec(line)?.[0]].filter(Boolean);
      return found.length ? [`${file}:${i + 1}: ${found.join(', ')}`] : [];
    }));
    assert.deepEqual(problems, []);
  });
});
