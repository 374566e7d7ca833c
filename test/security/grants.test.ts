// The permission layer's own guarantees, checked on the source: Grants are minted only in
// runtime/permissions, the system grant is issued only by boot, and stores take Grants.
import { describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const root = join(import.meta.dir, '..', '..')
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sources(path)
    return name.endsWith('.ts') ? [relative(root, path)] : []
  })
}
const files = [...sources(join(root, 'runtime')), ...sources(join(root, 'syscalls'))]
const text = (f: string) => readFileSync(join(root, f), 'utf8')

describe('who may make a Grant', () => {
  test('only runtime/permissions mints grants', () => {
    const minting = files.filter((f) => /\bmintGrant\b/.test(text(f)))
    expect(minting.sort()).toEqual(['runtime/permissions/grant.ts', 'runtime/permissions/index.ts'])
  })
  test('only runtime/boot.ts issues the system grant', () => {
    const issuing = files.filter((f) => f !== 'runtime/permissions/index.ts' && /\bissueSystemGrant\b/.test(text(f)))
    expect(issuing).toEqual(['runtime/boot.ts'])
  })
  test('no store API takes a hand-built caller: the old Caller type is gone', () => {
    expect(files.filter((f) => /\bCaller\b/.test(text(f).replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '')))).toEqual([])
  })
})
