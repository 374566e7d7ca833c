// GET /mm/<mid>[:ver]/<path> over a real port: rights, types, ETags, conditional and range requests.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { bootTest, callLocal, type TestKernel } from '../helpers/kernel.ts'
import { fileMiMei, login, put } from './files-setup.ts'

let node: TestKernel
let sid: string
let pub: { mid: string; h: string }
let priv: { mid: string; h: string }
/** 600 KiB: three chunks in a version, so ranges cross block boundaries. */
const big = new Uint8Array(600 * 1024).map((_, i) => (i * 31 + (i >> 9)) % 256)

beforeAll(async () => {
  node = await bootTest()
  sid = await login(node)
  pub = await fileMiMei(node, sid, { right: 1 })
  priv = await fileMiMei(node, sid)
  await callLocal(node, 'FSMkDir', sid, pub.h, 'site/sub')
  await put(node, sid, pub.h, 'site/index.html', '<h1>home</h1>')
  await put(node, sid, pub.h, 'site/app.js', 'console.log(1)')
  await put(node, sid, pub.h, 'site/big.bin', big)
  await put(node, sid, pub.h, 'site/name with spaces & ü.txt', 'spaced')
  await put(node, sid, priv.h, 'secret.txt', 'top secret')
})
afterAll(() => node[Symbol.asyncDispose]())

const get = (path: string, headers: Record<string, string> = {}, method = 'GET') => fetch(`${node.url}${path}`, { headers, method, redirect: 'manual' })
const bodyBytes = async (r: Response) => new Uint8Array(await r.arrayBuffer())

describe('serving', () => {
  test('a public MiMei is served to guests with type, length, ETag and Accept-Ranges', async () => {
    const r = await get(`/mm/${pub.mid}/site/app.js`)
    expect(r.status).toBe(200)
    expect(await r.text()).toBe('console.log(1)')
    expect(r.headers.get('content-type')).toBe('text/javascript;charset=utf-8')
    expect(r.headers.get('content-length')).toBe('14')
    expect(r.headers.get('accept-ranges')).toBe('bytes')
    expect(r.headers.get('etag')).toMatch(/^"bafyrei[a-z2-7]+"$/)
    const spaced = await get(`/mm/${pub.mid}/site/${encodeURIComponent('name with spaces & ü.txt')}`)
    expect(await spaced.text()).toBe('spaced')
    const head = await get(`/mm/${pub.mid}/site/big.bin`, {}, 'HEAD')
    expect(head.status).toBe(200)
    expect(head.headers.get('content-length')).toBe(String(big.length))
  })

  test('directories serve index.html; a missing trailing slash redirects', async () => {
    const r = await get(`/mm/${pub.mid}/site/`)
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toBe('text/html;charset=utf-8')
    expect(await r.text()).toBe('<h1>home</h1>')
    const redirect = await get(`/mm/${pub.mid}/site?x=1`)
    expect(redirect.status).toBe(301)
    expect(redirect.headers.get('location')).toBe(`/mm/${pub.mid}/site/?x=1`)
    expect((await get(`/mm/${pub.mid}`)).headers.get('location')).toBe(`/mm/${pub.mid}/`)
    const noIndex = await get(`/mm/${pub.mid}/site/sub/`)
    expect(noIndex.status).toBe(404)
    expect(((await noIndex.json()) as { error: string }).error).toBe('NotFound: directory "site/sub" has no index.html')
  })

  test('a big file streams whole and equal', async () => {
    const r = await get(`/mm/${pub.mid}/site/big.bin`)
    expect(r.headers.get('content-type')).toBe('application/octet-stream')
    expect(await bodyBytes(r)).toEqual(big)
  })
})

describe('conditional and range requests', () => {
  test('If-None-Match → 304; a change gives a new ETag', async () => {
    await put(node, sid, pub.h, 'etag.txt', 'one')
    const etag = (await get(`/mm/${pub.mid}/etag.txt`)).headers.get('etag')!
    const again = await get(`/mm/${pub.mid}/etag.txt`, { 'if-none-match': etag })
    expect(again.status).toBe(304)
    expect(again.headers.get('etag')).toBe(etag)
    expect((await get(`/mm/${pub.mid}/etag.txt`, { 'if-none-match': `"other", W/${etag}` })).status).toBe(304)
    await put(node, sid, pub.h, 'etag.txt', 'two')
    const changed = await get(`/mm/${pub.mid}/etag.txt`, { 'if-none-match': etag })
    expect(changed.status).toBe(200)
    expect(changed.headers.get('etag')).not.toBe(etag)
    // Same bytes, same ETag: it is the content id.
    await put(node, sid, pub.h, 'etag.txt', 'one')
    expect((await get(`/mm/${pub.mid}/etag.txt`)).headers.get('etag')).toBe(etag)
  })

  test('bytes=a-b, a-, -n → 206 with Content-Range; past the end → 416', async () => {
    const url = `/mm/${pub.mid}/site/big.bin`
    const size = big.length
    const cases: [string, number, number][] = [
      ['bytes=0-9', 0, 9],
      ['bytes=262140-262150', 262140, 262150],
      ['bytes=600000-', 600000, size - 1],
      ['bytes=-100', size - 100, size - 1],
      ['bytes=5-999999999', 5, size - 1],
      ['bytes=-999999999', 0, size - 1],
    ]
    for (const [range, start, end] of cases) {
      const r = await get(url, { range })
      expect(r.status).toBe(206)
      expect(r.headers.get('content-range')).toBe(`bytes ${start}-${end}/${size}`)
      expect(r.headers.get('content-length')).toBe(String(end - start + 1))
      expect(await bodyBytes(r)).toEqual(big.subarray(start, end + 1))
    }
    for (const range of [`bytes=${size}-`, `bytes=${size + 5}-${size + 10}`, 'bytes=-0']) {
      const r = await get(url, { range })
      expect(r.status).toBe(416)
      expect(r.headers.get('content-range')).toBe(`bytes */${size}`)
      expect(((await r.json()) as { error: string }).error).toStartWith('InvalidParams: the range is outside the file')
    }
    // Several ranges, or a malformed one, are ignored: the whole file comes back.
    for (const range of ['bytes=0-1,5-6', 'bytes=9-2', 'lines=1-2']) {
      const r = await get(url, { range })
      expect(r.status).toBe(200)
      expect((await bodyBytes(r)).length).toBe(size)
    }
    // If-Range with a stale ETag: the range no longer applies.
    const stale = await get(url, { range: 'bytes=0-9', 'if-range': '"stale"' })
    expect(stale.status).toBe(200)
    expect(await bodyBytes(stale)).toEqual(big)
    const etag = (await get(url, {}, 'HEAD')).headers.get('etag')!
    expect((await get(url, { range: 'bytes=0-9', 'if-range': etag })).status).toBe(206)
  })

  test('versions are served from their blocks, with ranges across chunks', async () => {
    const ver = (await callLocal(node, 'MMBackup', sid, pub.mid, '')) as number
    await put(node, sid, pub.h, 'site/big.bin', 'replaced')
    const r = await get(`/mm/${pub.mid}:${ver}/site/big.bin`, { range: 'bytes=262000-524400' })
    expect(r.status).toBe(206)
    expect(await bodyBytes(r)).toEqual(big.subarray(262000, 524401))
    expect(await bodyBytes(await get(`/mm/${pub.mid}:${ver}/site/big.bin`))).toEqual(big)
    const head = await get(`/mm/${pub.mid}:${ver}/site/big.bin`, {}, 'HEAD')
    expect(head.headers.get('content-length')).toBe(String(big.length))
    expect(await head.text()).toBe('')
    expect(await (await get(`/mm/${pub.mid}:last/site/`)).text()).toBe('<h1>home</h1>')
    expect(await (await get(`/mm/${pub.mid}/site/big.bin`)).text()).toBe('replaced')
    expect((await get(`/mm/${pub.mid}:99/site/`)).status).toBe(404)
    expect((await get(`/mm/${pub.mid}:bogus/site/`)).status).toBe(400)
  })
})

describe('rights and errors', () => {
  test('a private MiMei needs a session with the read right', async () => {
    const url = `/mm/${priv.mid}/secret.txt`
    const guest = await get(url)
    expect(guest.status).toBe(403)
    expect(((await guest.json()) as { error: string }).error).toStartWith(`PermissionDenied: a guest lacks the read right on MiMei ${priv.mid}`)
    expect(await (await get(url, { authorization: `Bearer ${sid}` })).text()).toBe('top secret')
    // Never from the URL (test/security/mm-headers.test.ts).
    expect((await get(`${url}?sid=${encodeURIComponent(sid)}`)).status).toBe(400)
    const stranger = await login(node, (await import('../../runtime/identity/index.ts')).generateKeyPair())
    expect((await get(url, { authorization: `Bearer ${stranger}` })).status).toBe(403)
    expect((await get(url, { authorization: 'Bearer not-a-session' })).status).toBe(403)
  })

  test('unknown MiMei or path → 404 JSON; escaping paths → 400', async () => {
    const none = await get('/mm/AAAAAAAAAAAAAAAAAAAAAAAAAAA/x')
    expect(none.status).toBe(404)
    expect(none.headers.get('content-type')).toStartWith('application/json')
    expect(((await none.json()) as { error: string }).error).toStartWith('NotFound: no MiMei')
    expect((await get(`/mm/${pub.mid}/site/nothing.txt`)).status).toBe(404)
    expect((await get(`/mm/${pub.mid}/site/app.js/deeper`)).status).toBe(404)
    const escape = await get(`/mm/${pub.mid}/site%2f..%2f..%2f..%2fetc%2fpasswd`)
    expect(escape.status).toBe(400)
    expect(((await escape.json()) as { error: string }).error).toContain('climbs above the root')
    expect((await get(`/mm/${pub.mid}/%E0%A4%A`)).status).toBe(400)
    const db = (await callLocal(node, 'MMCreate', sid, 'filetest', 'db', '{{auto}}', 2, 1)) as string
    expect((await get(`/mm/${db}/x`)).status).toBe(404)
  })
})
