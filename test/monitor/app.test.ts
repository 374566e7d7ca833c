// The monitor page in Chromium: opened with `leither monitor --open`'s one-time link, it shows the
// day's requests, sorts by the maximum, draws a request's trend over days and hours, and adds a
// second node the user runs. Screenshots go to test/e2e/screenshots (ignored).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { copyFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { MonitorTable } from '../../runtime/monitor/store.ts'
import { BUCKETS, bucketOf } from '../../runtime/monitor/histogram.ts'
import { callRemote } from '../../runtime/rpc/client.ts'
import { launchBrowser } from '../helpers/browser.ts'
import { bootTest, type TestKernel } from '../helpers/kernel.ts'
import { cli, tempDir } from '../helpers/node.ts'
import { SCREENSHOTS } from '../e2e/apps-fixture.ts'

let a: TestKernel
let b: TestKernel
let browser: Browser
let context: BrowserContext
const dirA = tempDir()
const dirB = tempDir()
const DAY = 86_400_000

beforeAll(async () => {
  a = await bootTest({}, dirA)
  const keyFile = `${a.config.owner}.key`
  mkdirSync(join(dirB, 'keys', 'users'), { recursive: true, mode: 0o700 })
  copyFileSync(join(dirA, 'keys', 'users', keyFile), join(dirB, 'keys', 'users', keyFile))
  b = await bootTest({}, dirB)
  for (let i = 0; i < 20; i++) await callRemote(a.url, 'Echo', [i])
  for (let i = 0; i < 4; i++) await callRemote(b.url, 'GetVar', ['', 'ver'])
  // Echo's history: one slow call on each of the 5 days before today.
  const today = Date.now() - (Date.now() % DAY)
  const hist = new Uint32Array(BUCKETS)
  hist[bucketOf(40)] = 1
  new MonitorTable(() => a.store.db).write(
    Array.from({ length: 5 }, (_, i) => ({ hour: today - (i + 1) * DAY + 10 * 3_600_000, kind: 'syscall' as const, name: 'Echo', count: 1, errors: 0, totalMs: 40, maxMs: 40, hist })),
  )
  browser = await launchBrowser()
  context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 860 } })
})

afterAll(async () => {
  await browser?.close()
  await Promise.all([a?.stop(), b?.stop()])
  dirA[Symbol.dispose]()
  dirB[Symbol.dispose]()
})

const column = (page: Page, n: number) => page.$$eval(`#rows tr td:nth-child(${n})`, (tds) => tds.map((td) => td.textContent ?? ''))

describe('monitor page', () => {
  let page: Page

  test('without a sign-in it says how to get one', async () => {
    const p = await context.newPage()
    const reply = await p.goto(`http://localhost:${a.http.port}/apps/monitor/`)
    expect(reply!.headers()['content-security-policy']).toContain("script-src 'self'")
    await p.waitForSelector('#signin:not([hidden])')
    expect(await p.textContent('#signin')).toContain('leither monitor --open')
    await p.close()
  })

  test("leither monitor --open's link shows the day's requests; sorting by max orders the rows", async () => {
    const r = await cli(['monitor', '--open', '--data', dirA, '--node', a.url], { env: { DISPLAY: '', WAYLAND_DISPLAY: '' } })
    expect(r.code).toBe(0)
    const link = r.stdout.split('\n').find((l) => l.startsWith('http'))!
    expect(link).toMatch(new RegExp(`^http://localhost:${a.http.port}/apps/monitor/\\?code=`))
    page = await context.newPage()
    await page.goto(link)
    await page.waitForSelector('body[data-ready="1"]')
    expect(page.url()).not.toContain('code=')
    const names = await column(page, 2)
    expect(names).toContain('Echo')
    expect(names).toContain('POST /webapi')
    const echo = await page.$eval('#rows tr[data-name="Echo"]', (tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent))
    expect(echo.slice(0, 4)).toEqual(['syscall', 'Echo', '20', '0'])

    await page.click('th button[data-sort="maxMs"]')
    // Columns: kind, name, count, errors, avg, p95, max (no node column for one node).
    const max = (await column(page, 7)).map(Number)
    expect(max.length).toBeGreaterThan(2)
    expect(max).toEqual([...max].sort((x, y) => y - x))
    expect(await page.getAttribute('th:nth-child(7)', 'aria-sort')).toBe('descending')
    await page.click('th button[data-sort="maxMs"]')
    expect((await column(page, 7)).map(Number)).toEqual([...max].reverse())
  })

  test('a click on a request draws its trend over 30 days, and over the hours of the day', async () => {
    await page.click('#rows tr[data-name="Echo"]')
    await page.waitForSelector('#trend:not([hidden]) #chart[data-points]')
    // Five days of history and today.
    expect(await page.getAttribute('#chart', 'data-points')).toBe('6')
    expect(await page.$$eval('#chart polyline', (l) => l.length)).toBeGreaterThanOrEqual(2)
    expect(await page.textContent('#trend-title')).toBe('Echo')
    await page.screenshot({ path: join(SCREENSHOTS, 'monitor.png'), fullPage: true })
    await page.click('#trend-hours')
    await page.waitForSelector('#trend-hours.on')
    expect(await page.getAttribute('#chart', 'data-points')).toBe('1')
  })

  test("a second node the user runs: its requests join the table, with a node column", async () => {
    await page.fill('#node-url', b.url)
    await page.click('#node-add')
    await page.waitForSelector(`#rows tr[data-node="${b.url}"]`)
    const nodes = await column(page, 1)
    expect(nodes).toContain(b.url.replace('http://', ''))
    expect(nodes).toContain('This node')
    const getvar = await page.$eval(`#rows tr[data-node="${b.url}"][data-name="GetVar"]`, (tr) => tr.children[3]!.textContent)
    // Four GetVar calls, and the one this node made there to learn b's node id before logging in.
    expect(getvar).toBe('5')
    await page.setViewportSize({ width: 390, height: 800 })
    // The chart is drawn again to the phone's width.
    await page.waitForFunction(() => (document.querySelector('#chart svg') as SVGSVGElement | null)?.viewBox.baseVal.width! < 500)
    await page.screenshot({ path: join(SCREENSHOTS, 'monitor-phone.png'), fullPage: true })
    await page.close()
  })
})
