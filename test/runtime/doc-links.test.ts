// The docs the code points to exist: every `docs/<name>.md` cited in the source is in the
// repository, and every `docs/<name>.md §N` names a section that it has.
import { expect, test } from 'bun:test'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const root = join(import.meta.dir, '..', '..')

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return name === 'node_modules' || name === 'static' || name === '.work' ? [] : sources(path)
    return /\.ts$/.test(name) ? [path] : []
  })
}

/** Citations in the source: [file that cites, doc, section or undefined]. */
function citations(): [string, string, string | undefined][] {
  const out: [string, string, string | undefined][] = []
  for (const file of ['runtime', 'syscalls', 'scripts', 'test', 'bench', 'builds'].flatMap((d) => sources(join(root, d)))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/docs\/([a-z0-9-]+\.md)(?: §(\d+(?:\.\d+)*))?/g)) out.push([relative(root, file), m[1], m[2]])
  }
  return out
}

/** Section numbers of a doc: headings like `## 2. Values` or `### 2.1 Tags`. */
function sectionsOf(doc: string): Set<string> {
  return new Set([...readFileSync(join(root, 'docs', doc), 'utf8').matchAll(/^#{2,4} (\d+(?:\.\d+)*)\.? /gm)].map((m) => m[1]))
}

test('the hprose citations are found (this test reads the source it checks)', () => {
  const cited = citations().filter(([, doc, section]) => doc === 'hprose.md' && section)
  expect(cited.length).toBeGreaterThan(20)
})

test('every cited doc exists and has the cited section', () => {
  const broken: string[] = []
  for (const [file, doc, section] of citations()) {
    if (!existsSync(join(root, 'docs', doc))) broken.push(`${file} cites docs/${doc}, which does not exist`)
    else if (section && !sectionsOf(doc).has(section)) broken.push(`${file} cites docs/${doc} §${section}, which it does not have`)
  }
  expect([...new Set(broken)]).toEqual([])
})
