// The test browser itself: Chromium from npm, with web security on (CORS enforced), off the network, on a fresh profile.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import type { Browser } from 'playwright-core'
import { chromiumPath, launchBrowser, OFFLINE_FLAGS } from '../helpers/browser.ts'

/** Command lines of the running processes started from `exe` (Linux /proc). */
function commandLines(exe: string): string[][] {
  const out: string[][] = []
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)
      if (args[0] === exe) out.push(args)
    } catch {
      // the process ended while we looked
    }
  }
  return out
}

let browser: Browser
let page: Bun.Server<undefined>
let open: Bun.Server<undefined>
let closed: Bun.Server<undefined>
beforeAll(async () => {
  browser = await launchBrowser()
  page = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('<!doctype html><title>t</title>', { headers: { 'content-type': 'text/html' } }) })
  // Two other origins: one allows any page to read it, one says nothing (so a browser must refuse).
  open = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('shared', { headers: { 'access-control-allow-origin': '*' } }) })
  closed = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('private') })
})
afterAll(async () => {
  await browser?.close()
  for (const s of [page, open, closed]) s?.stop(true)
})

describe('test browser', () => {
  test('is the npm Chromium, launched with the offline flags on a fresh temporary profile', async () => {
    const exe = await chromiumPath()
    // The browser process is the one started with the profile (renderers and helpers are its children).
    const args = commandLines(exe).find((line) => line.some((a) => a.startsWith('--user-data-dir=')))
    expect(args).toBeDefined()
    for (const flag of OFFLINE_FLAGS) expect(args).toContain(flag)
    const profile = args!.find((a) => a.startsWith('--user-data-dir='))
    expect(profile).toMatch(/^--user-data-dir=.*playwright_chromiumdev_profile-/)
    expect(args).not.toContain('--disable-web-security')
  })

  test('enforces CORS: a page reads another origin only when that origin allows it', async () => {
    const tab = await browser.newPage()
    try {
      await tab.goto(page.url.href)
      const read = (url: string) =>
        tab.evaluate(
          (url) =>
            fetch(url).then(
              (r) => r.text(),
              (e) => `refused: ${(e as Error).name}`,
            ),
          url,
        )
      expect(await read(open.url.href)).toBe('shared')
      expect(await read(closed.url.href)).toBe('refused: TypeError')
    } finally {
      await tab.close()
    }
  })
})
