// The official browser clients in Chromium: pages on their own 127.0.0.1 origin load each client from node_modules, and tests drive them as Peers.
//
// A small test-only server (servePages) plays the web site: its origin differs from the node's
// (another port), so every call is cross-origin as it is for a page that is not the node's own:
// CORS preflights, credentials (the clients set withCredentials) and the Origin header on the
// WebSocket upgrade are the browser's, not a shim's. hprose-html5 and hprose-js are served from
// their dist bundles as published; @hprose/rpc-html5 ships CommonJS only, so it is bundled with
// the test peers (browser-entry.ts) by Bun.build.
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { COMPAT_TZ } from './node.ts'
import type { ClientName, Peer } from './peers.ts'

const MODULES = join(import.meta.dir, '../../node_modules')
const BUNDLES: Partial<Record<ClientName, string>> = {
  'hprose-html5': join(MODULES, 'hprose-html5/dist/hprose-html5.js'),
  'hprose-js': join(MODULES, 'hprose-js/dist/hprose.js'),
}

export interface PageServer {
  /** http://127.0.0.1:port — the pages' origin. */
  readonly origin: string
  stop(): void
}

let peerScript: Promise<string> | undefined
/** browser-entry.ts bundled for the browser, once per test process. */
function compatPeersScript(): Promise<string> {
  peerScript ??= Bun.build({ entrypoints: [join(import.meta.dir, 'browser-entry.ts')], target: 'browser', format: 'iife' }).then((r) => {
    if (!r.success || !r.outputs[0]) throw new Error(`bundling browser-entry.ts failed: ${r.logs.join('\n')}`)
    return r.outputs[0].text()
  })
  return peerScript
}

/**
 * Serves `/?client=NAME` (a page that loads that client and the peers), the client bundles under
 * /lib/, and nothing else. Starts at once, so its origin is known before the node boots.
 */
export function servePages(): PageServer {
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      const url = new URL(request.url)
      const js = { 'content-type': 'text/javascript; charset=utf-8' }
      if (url.pathname === '/') {
        const client = url.searchParams.get('client') as ClientName | null
        const scripts = [client && BUNDLES[client] ? `/lib/${client}.js` : undefined, '/lib/compat-peers.js'].filter(Boolean)
        const html = `<!doctype html><meta charset="utf-8"><title>${client ?? 'page'}</title>${scripts.map((s) => `<script src="${s}"></script>`).join('')}`
        return new Response(html, { headers: { 'content-type': 'text/html; charset=utf-8' } })
      }
      if (url.pathname === '/lib/compat-peers.js') return new Response(await compatPeersScript(), { headers: js })
      const client = /^\/lib\/(.+)\.js$/.exec(url.pathname)?.[1] as ClientName | undefined
      const file = client && BUNDLES[client]
      if (file) return new Response(Bun.file(file), { headers: js })
      return new Response('not found', { status: 404 })
    },
  })
  return { origin: `http://127.0.0.1:${server.port}`, stop: () => void server.stop(true) }
}

export interface BrowserClient {
  /** A Peer whose every method runs in the page, with the client the page loaded. */
  open(url: string): Promise<Peer>
  readonly page: Page
  close(): Promise<void>
}

/** Opens a page of `pages` that has loaded `client`, in the suite's time zone (dates are local time, docs/hprose.md §6). */
export async function openClientPage(browser: Browser, pages: PageServer, client: ClientName): Promise<BrowserClient> {
  const context = await browser.newContext({ timezoneId: COMPAT_TZ })
  const page = await context.newPage()
  const problems: string[] = []
  page.on('pageerror', (err) => problems.push(err.message))
  await page.goto(`${pages.origin}/?client=${encodeURIComponent(client)}`)
  const ready = await page.evaluate(() => typeof (globalThis as { compatPeers?: unknown }).compatPeers === 'object')
  if (!ready) throw new Error(`the page did not load the peers: ${problems.join('; ')}`)

  const call = async (id: number, op: keyof Peer, args: unknown[]) => {
    const out = await page.evaluate(([id, op, args]) => (globalThis as any).compatPeers.call(id, op, args), [id, op, args] as const)
    if ('error' in out) throw new Error(out.error)
    return out.value
  }
  return {
    page,
    async open(url) {
      const id: number = await page.evaluate(([client, url]) => (globalThis as any).compatPeers.open(client, url), [client, url] as const)
      const method =
        (op: keyof Peer) =>
        (...args: unknown[]) =>
          call(id, op, args)
      return {
        echo: method('echo'),
        call: method('call'),
        functionList: method('functionList'),
        batch: method('batch'),
        byref: method('byref'),
        callWithHeaders: method('callWithHeaders'),
        echoMany: method('echoMany'),
        socketProtocol: method('socketProtocol'),
        close: method('close'),
      } as Peer
    },
    close: () => context.close(),
  }
}
