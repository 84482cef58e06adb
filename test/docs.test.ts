import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The documentation stays in step with the code: every environment variable Herald reads is in
 * `.env.example` and `docs/configuration.md`, and every link between the README and `docs/` leads somewhere.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const markdownFiles = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** The variables of config.ts's environment schema: its keys are written `  NAME: …` at the start of a line. */
function configVariables(): string[] {
  const source = read('src/config.ts');
  const schema = source.slice(source.indexOf('const envSchema'), source.indexOf('export interface Config'));
  return [...schema.matchAll(/^ {2}((?:HERALD|DISCORD)_[A-Z0-9_]+):/gm)].map((m) => m[1]!).sort();
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[`*_]/g, '')
    .replace(/[^\p{L}\p{N} -]/gu, '')
    .replace(/ /g, '-');

function anchors(path: string): Set<string> {
  const text = read(path).replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));
}

describe('documentation', () => {
  it('lists every variable of src/config.ts in .env.example and in docs/configuration.md, and no other', () => {
    const vars = configVariables();
    expect(vars.length).toBeGreaterThan(30);
    const example = [...read('.env.example').matchAll(/^#? ?((?:HERALD|DISCORD)_[A-Z0-9_]+)=/gm)].map((m) => m[1]!);
    const documented = [...read('docs/configuration.md').matchAll(/^\| `((?:HERALD|DISCORD)_[A-Z0-9_]+)`/gm)].map((m) => m[1]!);
    expect([...new Set(example)].sort()).toEqual(vars);
    expect([...new Set(documented)].sort()).toEqual(vars);
  });

  it('links only to files and headings that exist in the repository', () => {
    const broken: string[] = [];
    for (const file of markdownFiles) {
      // Code blocks and code spans hold examples (`[text](url)`), not links.
      const text = read(file).replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target!)) continue; // an external address
        const [path, anchor] = target!.split('#') as [string, string | undefined];
        const linked = path === '' ? file : join(dirname(file), path);
        if (!existsSync(join(root, linked))) broken.push(`${file}: ${target} (no file ${linked})`);
        else if (anchor !== undefined && linked.endsWith('.md') && !anchors(linked).has(anchor)) broken.push(`${file}: ${target} (no heading #${anchor})`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('points at no design document outside the repository', () => {
    const offenders = markdownFiles.filter((f) => /DESIGN\.md|design doc|\/work\/|shared\//i.test(read(f)));
    expect(offenders).toEqual([]);
  });
});
