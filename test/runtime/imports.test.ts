// The import graph: no runtime folder (and no file) imports one that imports it back, and runtime/rpc is a leaf.
import { expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { describeCycle, fileGraph, cyclesOf, folderGraph, importEdges, specifiersOf } from '../../scripts/imports.ts'

const root = join(import.meta.dir, '..', '..')

test('the scanner reads every form of import and skips what only looks like one', () => {
  const source = [
    "import { a, type B } from './a.ts'",
    "import type { C } from '../c/index.ts'",
    'import {',
    '  d,',
    '  e,',
    "} from './multi.ts'",
    "import * as f from './f.ts'",
    "import g, { h } from './g.ts'",
    "export { i } from './i.ts'",
    "export type { J } from './j.ts'",
    "export * from './k.ts'",
    "import './side-effect.ts'",
    "const l = await import('./l.ts')",
    "type M = typeof import('./m.ts')",
    "const text = 'the import from below is a string' // from './not.ts'",
    "export function n() { return 'from' }",
  ].join('\n')
  expect(specifiersOf(source).sort()).toEqual(['../c/index.ts', './a.ts', './f.ts', './g.ts', './i.ts', './j.ts', './k.ts', './l.ts', './m.ts', './multi.ts', './side-effect.ts'])
})

test('a cycle across folders is found, with the file edges that make it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'leither-imports-'))
  try {
    const put = (path: string, text: string) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true })
      writeFileSync(join(dir, path), text)
    }
    put('runtime/a/index.ts', "import { b } from '../b/index.ts'\nexport const a = 1\n")
    put('runtime/b/index.ts', "import { c } from '../c/x.ts'\nexport const b = 2\n")
    put('runtime/c/x.ts', "import type { a } from '../a/index.ts'\nexport const c = 3\n")
    put('runtime/d.ts', "import { a } from './a/index.ts'\n")
    const graph = folderGraph(importEdges(dir, ['runtime']))
    const cycles = cyclesOf(graph)
    expect(cycles).toEqual([['runtime/a', 'runtime/b', 'runtime/c']])
    expect(describeCycle(cycles[0], graph)).toContain('runtime/c → runtime/a (runtime/c/x.ts imports ../a/index.ts)')
    // The same files have a cycle of files too; d.ts only imports, so it is in none.
    expect(cyclesOf(fileGraph(importEdges(dir, ['runtime'])))).toEqual([['runtime/a/index.ts', 'runtime/b/index.ts', 'runtime/c/x.ts']])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('no runtime folder (nor syscalls/) imports one that imports it back', () => {
  const graph = folderGraph(importEdges(root, ['runtime', 'syscalls']))
  expect(graph.size).toBeGreaterThan(10)
  expect(cyclesOf(graph).map((g) => describeCycle(g, graph))).toEqual([])
})

test('no file imports one that imports it back, directly or through others', () => {
  const graph = fileGraph(importEdges(root, ['runtime', 'syscalls']))
  expect(graph.size).toBeGreaterThan(100)
  expect(cyclesOf(graph).map((g) => describeCycle(g, graph))).toEqual([])
})

test('runtime/rpc imports nothing outside itself but runtime/errors.ts', () => {
  const edges = importEdges(root, ['runtime/rpc'])
  expect(edges.length).toBeGreaterThan(20)
  const outside = edges.filter((e) => !e.to || !(e.to.startsWith('runtime/rpc/') || e.to === 'runtime/errors.ts'))
  expect(outside.map((e) => `${e.from} imports ${e.specifier}`)).toEqual([])
})
