// Hprose codec stream API: the Reader/Writer calls the RPC layer makes for 2.0 and 3.0 requests and replies (docs/hprose.md §3).

import { describe, expect, test } from 'bun:test'
import {
  HproseDecodeError,
  Reader,
  Tag,
  Writer,
  decode,
} from '../../runtime/rpc/codec/index.ts'
import { useUtc, wire } from './codec-samples.ts'

useUtc()

describe('stream API for the RPC layer', () => {
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

  test('reads a 2.0 request: name, reset, shared table across the argument list', () => {
    const r = new Reader(wire('Cs4"echo"a1{a4{m1{ukuv}r2;s3"dup"r3;}}z'))
    expect(r.readTag()).toBe(Tag.Call)
    expect(r.readString()).toBe('echo')
    expect(r.refCount).toBe(1)
    r.reset() // the arguments have their own table: `a1` is slot 0
    expect(r.peekTag()).toBe(Tag.List)
    const args = r.readValue() as unknown[][]
    expect(args[0]![0]).toBe(args[0]![1])
    expect(r.refCount).toBe(4)
    r.expectTag(Tag.End)
    expect(r.atEnd).toBe(true)
    expect(r.peekTag()).toBe(-1)
  })

  test('reads a batch with byref and a 3.x header', () => {
    const r = new Reader(wire('Hm1{s4"user"s3"tom"}Cs3"add"a2{12}Cs4"echo"a1{a3{312}}tCu~z'))
    r.expectTag(Tag.Header)
    expect(r.readValue()).toEqual({ user: 'tom' })
    r.reset()
    const calls: unknown[] = []
    while (r.peekTag() === Tag.Call) {
      r.readTag()
      const name = r.readString()
      r.reset()
      const args = r.peekTag() === Tag.List ? r.readValue() : []
      const byref = r.peekTag() === Tag.True && (r.readTag(), true)
      calls.push([name, args, byref])
    }
    r.expectTag(Tag.End)
    expect(calls).toEqual([['add', [1, 2], false], ['echo', [[3, 1, 2]], true], ['~', [], false]])
  })

  test('writes replies with a fresh table per result', () => {
    const o = { k: 'v' }
    const w = new Writer()
    w.writeTag(Tag.Result).write([o, o, 'dup', 'dup']).writeTag(Tag.End)
    expect(text(w.toBytes())).toBe('Ra4{m1{ukuv}r1;s3"dup"r2;}z')

    const batch = new Writer()
    batch.writeTag(Tag.Result).write(3).reset()
    batch.writeTag(Tag.Result).write('x').reset()
    batch.writeTag(Tag.Error).writeString('boom').writeTag(Tag.End)
    expect(text(batch.toBytes())).toBe('R3RuxEs4"boom"z')

    const byref = new Writer()
    byref.writeTag(Tag.Result).write([3, 1, 2]).reset()
    byref.writeTag(Tag.Argument).write([[3, 1, 2]]).writeTag(Tag.End)
    expect(text(byref.toBytes())).toBe('Ra3{312}Aa1{a3{312}}z')

    const list = new Writer().writeTag(Tag.FunctionList).write(['#', 'add', 'echo']).writeTag(Tag.End)
    expect(text(list.toBytes())).toBe('Fa3{u#s3"add"s4"echo"}z')
  })

  test('writes requests: name, reset, arguments', () => {
    const o = { k: 'v' }
    const w = new Writer().writeTag(Tag.Call).write('echo').reset().write([[o, o, 'dup', 'dup']]).writeTag(Tag.End)
    expect(text(w.toBytes())).toBe('Cs4"echo"a1{a4{m1{ukuv}r2;s3"dup"r3;}}z')
    expect(text(new Writer().writeTag(Tag.Call).write('~').writeTag(Tag.End).toBytes())).toBe('Cu~z')
    const raw = new Writer().writeRaw(wire('R3')).writeTag(Tag.End)
    expect(text(raw.toBytes())).toBe('R3z')
  })

  test('toBytes stays valid while the writer grows', () => {
    const w = new Writer().write('first value')
    const early = w.toBytes()
    w.write('x'.repeat(10000))
    expect(text(early)).toBe('s11"first value"')
  })

  test('decode rejects trailing bytes; a Reader reads values one after another', () => {
    expect(() => decode(wire('12'))).toThrow(HproseDecodeError)
    const r = new Reader(wire('12s2"ab"r0;'))
    expect([r.readValue(), r.readValue(), r.readValue(), r.readValue()]).toEqual([1, 2, 'ab', 'ab'])
    expect(decode(wire('a1{5}').buffer as ArrayBuffer)).toEqual([5])
  })
})
