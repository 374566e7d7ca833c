// Micro-benchmark of the Hprose codec against the official hprose 2 and @hprose/io 3 codecs on typical RPC arguments.
//
// Run: node_modules/.bin/bun bench/codec.ts [iterations]

import { createRequire } from 'node:module'
import { decode, encode } from '../runtime/rpc/codec/index.ts'

const require = createRequire(import.meta.url)
const hprose2 = require('hprose') as {
  Formatter: { serialize(v: unknown): Uint8Array; unserialize(b: Uint8Array): unknown }
}
const io = require('@hprose/io') as {
  Formatter: { serialize(v: unknown): Uint8Array; deserialize(b: Uint8Array): unknown }
}

const iterations = Number(process.argv[2] ?? 200_000)

/** Arguments shaped like a Leither call: ids, a small options map, a few strings and ints. */
const CASES: [string, unknown][] = [
  ['add(1, 2)', [1, 2]],
  [
    'typical args',
    [
      'mimei-3f2a9c',
      42,
      { name: 'Tom', age: 30, tags: ['a', 'bb', 'ccc'], active: true, score: 98.5 },
      'a somewhat longer string value for the call',
      1234567,
      ['x', 'y', 'x'],
    ],
  ],
  [
    'unicode + nested',
    [{ title: 'héllo 你好 😀', items: [{ id: 1, label: 'één' }, { id: 2, label: 'twee' }, { id: 3, label: '三' }] }, 'ok'],
  ],
]

function measure(run: () => unknown): number {
  for (let i = 0; i < Math.min(20_000, iterations); i++) run() // warm up the JIT
  const started = performance.now()
  for (let i = 0; i < iterations; i++) run()
  return iterations / ((performance.now() - started) / 1000)
}

const fmt = (opsPerSecond: number) => `${(opsPerSecond / 1000).toFixed(0).padStart(7)}k ops/s`

console.log(`Hprose codec, ${iterations} iterations per row (Bun ${Bun.version})\n`)
for (const [name, value] of CASES) {
  const bytes = encode(value)
  const official = hprose2.Formatter.serialize(value)
  const same = Buffer.compare(Buffer.from(bytes), Buffer.from(official)) === 0
  console.log(`${name}: ${bytes.length} bytes${same ? ', identical to hprose 2' : ', DIFFERS from hprose 2'}`)
  console.log(`  encode  ours ${fmt(measure(() => encode(value)))}   hprose 2 ${fmt(measure(() => hprose2.Formatter.serialize(value)))}   @hprose/io ${fmt(measure(() => io.Formatter.serialize(value)))}`)
  console.log(`  decode  ours ${fmt(measure(() => decode(bytes)))}   hprose 2 ${fmt(measure(() => hprose2.Formatter.unserialize(bytes)))}   @hprose/io ${fmt(measure(() => io.Formatter.deserialize(bytes)))}`)
}
