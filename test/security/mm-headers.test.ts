// Issue 8 defect 9: user files under /mm/ never run as the node's own pages, and the sid never travels in a URL.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { bootTest, callLocal, type TestKernel } from '../helpers/kernel.ts'
import { fileMiMei, login, put } from '../mimei/files-setup.ts'

let node: TestKernel
let sid: string
let pub: { mid: string; h: string }
let priv: { mid: string; h: string }

beforeAll(async () => {
  node = await bootTest()
  sid = await login(node)
  pub = await fileMiMei(node, sid, { right: 1 })
  priv = await fileMiMei(node, sid)
  await callLocal(node, 'FSMkDir', sid, pub.h, 'site')
  await put(node, sid, pub.h, 'site/index.html', '<script>fetch("/webapi/")</script>')
  await put(node, sid, pub.h, 'site/page.htm', '<h1>x</h1><script>1</script>')
  await put(node, sid, pub.h, 'site/pic.svg', '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
  await put(node, sid, pub.h, 'site/doc.xhtml', '<html xmlns="http://www.w3.org/1999/xhtml"><script>1</script></html>')
  await put(node, sid, pub.h, 'site/feed.xml', '<?xml version="1.0"?><a/>')
  // No extension and HTML inside: whatever type the node picks, the browser must not sniff it into a page.
  await put(node, sid, pub.h, 'site/noext', '<html><script>alert(1)</script></html>')
  await put(node, sid, pub.h, 'site/app.js', 'console.log(1)')
  await put(node, sid, priv.h, 'secret.txt', 'top secret')
})
afterAll(() => node[Symbol.asyncDispose]())

const get = (path: string, headers: Record<string, string> = {}, method = 'GET') => fetch(`${node.url}${path}`, { headers, method, redirect: 'manual' })

/** True when a CSP header value carries the sandbox directive with no allow-same-origin. */
const sandboxed = (csp: string | null) => !!csp && /(^|;)\s*sandbox(\s|;|$)/.test(csp) && !csp.includes('allow-same-origin')

describe('/mm/ responses', () => {
  test('every answer carries X-Content-Type-Options: nosniff (files, errors, redirects, 304, HEAD)', async () => {
    const file = await get(`/mm/${pub.mid}/site/app.js`)
    const etag = file.headers.get('etag')!
    const answers = [
      file,
      await get(`/mm/${pub.mid}/site/app.js`, {}, 'HEAD'),
      await get(`/mm/${pub.mid}/site/app.js`, { 'if-none-match': etag }),
      await get(`/mm/${pub.mid}/site/app.js`, { range: 'bytes=0-3' }),
      await get(`/mm/${pub.mid}/site`),
      await get(`/mm/${pub.mid}/site/missing.txt`),
      await get(`/mm/${priv.mid}/secret.txt`),
      await get(`/mm/${pub.mid}:bogus/site/`),
    ]
    expect(answers.map((r) => r.status)).toEqual([200, 200, 304, 206, 301, 404, 403, 400])
    for (const r of answers) expect(r.headers.get('x-content-type-options')).toBe('nosniff')
  })

  test('anything a browser could open as a document is sandboxed (HTML, SVG, XHTML, XML, unknown types)', async () => {
    for (const path of ['site/', 'site/index.html', 'site/page.htm', 'site/pic.svg', 'site/doc.xhtml', 'site/feed.xml', 'site/noext']) {
      const r = await get(`/mm/${pub.mid}/${path}`)
      expect(r.status).toBe(200)
      expect({ path, sandboxed: sandboxed(r.headers.get('content-security-policy')) }).toEqual({ path, sandboxed: true })
    }
    // HEAD and 304 answers carry it too: a cached page is opened under the headers it first came with.
    const head = await get(`/mm/${pub.mid}/site/index.html`, {}, 'HEAD')
    expect(sandboxed(head.headers.get('content-security-policy'))).toBe(true)
  })
})

describe('the session of a /mm/ request', () => {
  test('is taken from Authorization: Bearer', async () => {
    const r = await get(`/mm/${priv.mid}/secret.txt`, { authorization: `Bearer ${sid}` })
    expect(r.status).toBe(200)
    expect(await r.text()).toBe('top secret')
  })

  test('is never taken from the URL: ?sid= is refused and says how to send it', async () => {
    const r = await get(`/mm/${priv.mid}/secret.txt?sid=${encodeURIComponent(sid)}`)
    expect(r.status).toBe(400)
    const { error } = (await r.json()) as { error: string }
    expect(error).toStartWith('InvalidParams:')
    expect(error).toContain('Authorization: Bearer')
    expect(error).not.toContain(sid)
    // Even on a public MiMei, so a link with a sid in it never works by accident.
    expect((await get(`/mm/${pub.mid}/site/app.js?sid=${encodeURIComponent(sid)}`)).status).toBe(400)
  })
})
