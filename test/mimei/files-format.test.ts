// Pure parts of the file family: the DAG-CBOR codec, path normalization, HTTP ranges, sniffing.
import { describe, expect, test } from 'bun:test'
import { DAG_CBOR, cidOf } from '../../runtime/mimei/blocks.ts'
import { decode, encode, link } from '../../runtime/mimei/files/dagcbor.ts'
import { sniffType } from '../../runtime/mimei/files/mime.ts'
import { normalizePath } from '../../runtime/mimei/files/path.ts'
import { noneMatch, parseRange } from '../../runtime/http/range.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

describe('DAG-CBOR', () => {
  test('matches the IPLD encoding: the empty map has its well-known CID', () => {
    expect(hex(encode({}))).toBe('a0')
    expect(cidOf(encode({}), DAG_CBOR)).toBe('bafyreigbtj4x7ip5legnfznufuopl4sg4knzc2cof6duas4b3q2fy6swua')
  })

  test('canonical: keys by length then bytes, shortest integers, links as tag 42', () => {
    const empty = 'bafyreigbtj4x7ip5legnfznufuopl4sg4knzc2cof6duas4b3q2fy6swua'
    const bytes = encode({ format: 'x', chunks: [link(empty)], size: 5e9 })
    expect(hex(bytes)).toBe(
      'a3' + '6473697a65' + '1b000000012a05f200' + '666368756e6b73' + '81' + 'd82a' + '5825' + '00' + '01711220c19a797fa1fd590cd2e5b42d1cf5f246e29b91684e2f87404b81dc345c7a56a0' + '66666f726d6174' + '6178',
    )
    expect(decode(bytes)).toEqual({ size: 5e9, chunks: [empty], format: 'x' })
    expect(hex(encode([23, 24, 255, 256, 65535, 65536, 2 ** 32]))).toBe('87' + '17' + '1818' + '18ff' + '190100' + '19ffff' + '1a00010000' + '1b0000000100000000')
  })

  test('decoding refuses what snapshots never hold', () => {
    for (const bad of ['fb3ff0000000000000', '20', 'c1 00', 'a1 01 02', '82 01', '9f ff', '01 02']) {
      expect(() => decode(Buffer.from(bad.replace(/ /g, ''), 'hex'))).toThrow()
    }
  })
})

describe('paths', () => {
  test('normalization', () => {
    expect(normalizePath('')).toBe('')
    expect(normalizePath('/')).toBe('')
    expect(normalizePath('//a/./b//c/')).toBe('a/b/c')
    expect(normalizePath('a/b/../c')).toBe('a/c')
    expect(normalizePath('a/..')).toBe('')
    expect(() => normalizePath('a/../..')).toThrow('climbs above the root')
    expect(() => normalizePath(7)).toThrow('a path must be a string')
  })
})

describe('HTTP ranges', () => {
  test('single ranges are parsed against the size; others are ignored', () => {
    expect(parseRange('bytes=0-0', 10)).toEqual({ start: 0, end: 0 })
    expect(parseRange('bytes=3-', 10)).toEqual({ start: 3, end: 9 })
    expect(parseRange('bytes=-3', 10)).toEqual({ start: 7, end: 9 })
    expect(parseRange('bytes=8-100', 10)).toEqual({ start: 8, end: 9 })
    expect(parseRange('bytes=10-', 10)).toBe('unsatisfiable')
    expect(parseRange('bytes=-1', 0)).toBe('unsatisfiable')
    expect(parseRange('bytes=0-', 0)).toBe('unsatisfiable')
    for (const ignored of [null, '', 'bytes=', 'bytes=-', 'bytes=5-1', 'bytes=0-1,3-4', 'items=0-1', 'bytes=a-b']) {
      expect(parseRange(ignored, 10)).toBeUndefined()
    }
  })

  test('If-None-Match compares weakly and knows *', () => {
    expect(noneMatch('"a"', '"a"')).toBe(true)
    expect(noneMatch('W/"a"', '"a"')).toBe(true)
    expect(noneMatch('"b", "a"', '"a"')).toBe(true)
    expect(noneMatch('*', '"a"')).toBe(true)
    expect(noneMatch('"b"', '"a"')).toBe(false)
    expect(noneMatch(null, '"a"')).toBe(false)
  })
})

describe('sniffing', () => {
  test('signatures, markup, text and binary', () => {
    const b = (s: string) => new TextEncoder().encode(s)
    expect(sniffType(Uint8Array.of(0xff, 0xd8, 0xff, 0xe0))).toBe('image/jpeg')
    expect(sniffType(b('%PDF-1.7'))).toBe('application/pdf')
    expect(sniffType(b('RIFF\0\0\0\0WEBPVP8 '))).toBe('image/webp')
    expect(sniffType(b('<svg xmlns="http://www.w3.org/2000/svg">'))).toBe('image/svg+xml')
    expect(sniffType(b('\n<html><body>'))).toBe('text/html;charset=utf-8')
    expect(sniffType(b('tab\tand\nnewline'))).toBe('text/plain;charset=utf-8')
    expect(sniffType(Uint8Array.of(0xc3))).toBe('text/plain;charset=utf-8') // a cut UTF-8 sequence
    expect(sniffType(Uint8Array.of(0xff, 0xfe, 0x41))).toBe('application/octet-stream')
  })
})
