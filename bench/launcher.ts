// `bun bench/launcher.ts`: the launcher in Chromium (first paint, interactive; cold and warm) and an app page from navigation to its first syscall answered, next to a static page from a bare Bun.serve → bench/RESULTS.md.
import { rmSync } from 'node:fs'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { boot } from '../runtime/boot.ts'
import { findUserKey, generateKeyPair, signPassport } from '../runtime/identity/index.ts'
import { appFiles, signedTar, upload } from '../test/apps/helpers.ts'
import { launchBrowser } from '../test/helpers/browser.ts'
import { machineLine, table, writeSection } from './results.ts'

const quick = process.argv.includes('--quick')
const RUNS = quick ? 2 : 10
const dir = mkdtempSync(join(tmpdir(), 'leither-bench-launcher-'))
const node = await boot({ dataDir: dir, overrides: { port: 0, host: '127.0.0.1', p2p: false, logLevel: 'warn' }, logToStderr: false })
const call = (name: string, ...args: unknown[]) => node.dispatcher.call(name, args, { transport: 'local' })
const ppt = signPassport(findUserKey(dir, node.config.owner, () => {}), { audience: node.identity.nodeId, data: { CertFor: 'Self' }, ttl: 600 })
const owner = ((await call('Login', ppt)) as { sid: string }).sid
const APP_JS = `import { LeitherClient } from '/lib/leither.js'
const c = new LeitherClient()
await c.signIn()
await c.GetVar('ver')
performance.mark('first-call')`
const app = (await upload(node as never, owner, await signedTar(generateKeyPair(), appFiles({ name: 'bench', files: { 'index.html': '<!doctype html><title>b</title><script type="module" src="app.js"></script>', 'app.js': APP_JS } })))) as { id: string }
const STATIC = '<!doctype html><meta charset="utf-8"><title>anchor</title><link rel="stylesheet" href="s.css"><h1>Static page</h1><script type="module" src="a.js"></script>'
const anchor = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: (r) => {
  const p = new URL(r.url).pathname
  if (p === '/s.css') return new Response('body{font:15px system-ui}', { headers: { 'content-type': 'text/css' } })
  if (p === '/a.js') return new Response("performance.mark('leither-ready')", { headers: { 'content-type': 'text/javascript' } })
  return new Response(STATIC, { headers: { 'content-type': 'text/html' } })
} })
const browser = await launchBrowser()

type Sample = { paint: number; ready: number }
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** Loads `url()` in a page of `ctx` and reads first-contentful-paint and the `mark` from the page's own clock. */
async function load(ctx: Awaited<ReturnType<typeof browser.newContext>>, url: string, mark: string): Promise<Sample> {
  const page = await ctx.newPage()
  await page.goto(url)
  await page.waitForFunction((m) => performance.getEntriesByName(m).length > 0, mark)
  const s = await page.evaluate((m) => ({ paint: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN, ready: performance.getEntriesByName(m)[0].startTime }), mark)
  await page.close()
  return s
}
const launcherUrl = async () => ((await call('SessionCode', owner)) as { url: string }).url
const appUrl = async () => ((await call('SessionCode', owner, app.id)) as { url: string }).url

const rows: (string | number)[][] = []
async function measure(what: string, url: () => Promise<string>, mark: string) {
  const cold: Sample[] = []
  const warm: Sample[] = []
  for (let i = 0; i < RUNS; i++) {
    const ctx = await browser.newContext()
    cold.push(await load(ctx, await url(), mark))
    warm.push(await load(ctx, await url(), mark))
  }
  for (const [kind, s] of [['cold', cold], ['warm', warm]] as const) rows.push([what, kind, Number.isNaN(median(s.map((x) => x.paint))) ? '— (nothing painted)' : median(s.map((x) => x.paint)).toFixed(0), median(s.map((x) => x.ready)).toFixed(0)])
}
try {
  await measure('static page, bare Bun.serve (anchor)', async () => anchor.url.href, 'leither-ready')
  await measure('launcher, signed in (data-ready)', launcherUrl, 'leither-ready')
  await measure('app page → first syscall answered', appUrl, 'first-call')
} finally {
  await browser.close()
  anchor.stop(true)
  await node.stop()
  rmSync(dir, { recursive: true, force: true })
}
const md = [
  machineLine(),
  `Headless Chromium from npm (software rendering), ${RUNS} runs each, medians, ms from navigation start on the page's own clock. Cold: a fresh browser context; warm: a second load in the same context. "Ready" is the launcher signed in with its tabs shown, the app's first syscall (CodeLogin, then GetVar) answered, or the anchor's script run.`,
  '',
  table(['page', 'load', 'first paint (ms)', 'ready (ms)'], rows, '  rr'),
].join('\n')
writeSection('Launcher and app pages in Chromium', md, { quick })
console.log(md)
