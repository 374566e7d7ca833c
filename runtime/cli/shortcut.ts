// `leither app shortcut APP -o FILE.html`: a small self-contained page that finds a reachable node
// (loopback first, then its LAN addresses and any given with --addr) and opens the app there.
import { writeFileSync } from 'node:fs'
import { networkInterfaces } from 'node:os'
import { resolve } from 'node:path'
import { bundledFile } from '../apps/index.ts'
import { loadConfig, resolveDataDir } from '../config/index.ts'
import { RemoteCallError } from '../rpc/client.ts'
import { UsageError, type Parsed } from './args.ts'
import { resolveApp } from './open.ts'
import { connect } from './session.ts'

/** A shortcut file may be at most this big (it is meant to be mailed, copied, kept on a desktop). */
export const SHORTCUT_MAX_BYTES = 8 * 1024

export interface ShortcutSpec {
  name: string
  app: string
  /** Node base URLs (http://host:port), tried in this order. */
  addrs: string[]
  /** Per-address timeout in ms (default 2000). */
  timeout?: number
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** Fills the launcher's shortcut template (apps/launcher/shortcut.html); the launcher does the same in the browser. */
export function shortcutHtml(template: string, spec: ShortcutSpec): string {
  const config = JSON.stringify(spec).replace(/</g, '\\u003c').replace(/\u2028|\u2029/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`)
  return template.replace('__TITLE__', () => escapeHtml(spec.name)).replace('"__LEITHER_SHORTCUT__"', () => config)
}

/** Builds the file, dropping the last addresses while it is over SHORTCUT_MAX_BYTES; returns it and what was dropped. */
export function fitShortcut(template: string, spec: ShortcutSpec): { html: string; dropped: string[] } {
  const addrs = [...spec.addrs]
  const dropped: string[] = []
  let html = shortcutHtml(template, { ...spec, addrs })
  while (Buffer.byteLength(html) > SHORTCUT_MAX_BYTES && addrs.length > 1) {
    dropped.unshift(addrs.pop()!)
    html = shortcutHtml(template, { ...spec, addrs })
  }
  if (Buffer.byteLength(html) > SHORTCUT_MAX_BYTES) throw new UsageError(`the shortcut would be ${Buffer.byteLength(html)} bytes, over ${SHORTCUT_MAX_BYTES}; use a shorter name`)
  return { html, dropped }
}

const WILDCARD = new Set(['0.0.0.0', '::', '[::]', ''])
const isLoopback = (h: string) => h === 'localhost' || h.startsWith('127.') || h === '::1' || h === '[::1]'
const httpBase = (host: string, port: number) => `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`

/**
 * The node's HTTP addresses, loopback first. LAN addresses are listed only when the HTTP server is
 * bound to them (config host, or every interface): the libp2p addresses (nodeaddrs) name the hosts
 * but not the HTTP port, and relayed addresses carry no HTTP at all.
 */
export function nodeHttpAddrs(opts: { port: number; bindHost: string; nodeUrl: string; nodeaddrs: string[]; extra: string[] }): string[] {
  const out: string[] = [httpBase('127.0.0.1', opts.port)]
  const node = new URL(opts.nodeUrl)
  if (!isLoopback(node.hostname)) out.push(node.origin)
  if (WILDCARD.has(opts.bindHost)) {
    for (const a of opts.nodeaddrs) {
      const m = /^\/ip4\/([\d.]+)\//.exec(a)
      if (m && !isLoopback(m[1]) && !a.includes('/p2p-circuit')) out.push(httpBase(m[1], opts.port))
    }
    for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) if (i.family === 'IPv4' && !i.internal) out.push(httpBase(i.address, opts.port))
  } else if (!isLoopback(opts.bindHost)) {
    out.push(httpBase(opts.bindHost, opts.port))
  }
  for (const e of opts.extra) out.push(new URL(e).origin)
  return [...new Set(out)]
}

export async function shortcutCommand(p: Parsed): Promise<number> {
  const s = connect(p)
  try {
    const what = p.args[0]
    if (!what) throw new UsageError('usage: leither app shortcut APP -o FILE.html')
    const extra = ((p.flags.addr as string[] | undefined) ?? []).map((a) => {
      if (!/^https?:\/\/[^/]+\/?$/.test(a)) throw new UsageError(`--addr ${a}: give a node's address like http://192.168.1.5:4800`)
      return a
    })
    await s.login()
    const app = await resolveApp(s, what)
    const port = Number(await s.call('GetVar', ['', 'port']))
    const nodeaddrs = ((await s.call('GetVar', ['', 'nodeaddrs'])) as string[]) ?? []
    const { config } = loadConfig(resolveDataDir(p.flags.data as string | undefined))
    const addrs = nodeHttpAddrs({ port, bindHost: config.host, nodeUrl: s.node, nodeaddrs, extra })
    const template = await bundledFile('launcher', 'shortcut.html')!.text()
    const { html, dropped } = fitShortcut(template, { name: app.name, app: app.id, addrs })
    const out = resolve((p.flags.out as string | undefined) ?? `${app.name}.html`)
    writeFileSync(out, html)
    console.log(`wrote ${out} (${Buffer.byteLength(html)} bytes): opens ${app.name} on the first of`)
    for (const a of addrs.slice(0, addrs.length - dropped.length)) console.log(`  ${a}`)
    if (dropped.length) console.error(`left out to stay under ${SHORTCUT_MAX_BYTES} bytes: ${dropped.join(' ')}`)
    console.log('Apps open on the node\'s own machine (their addresses are <id>.localhost); on another machine the file opens that node\'s launcher.')
    return 0
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`leither app shortcut: ${err.message}`)
      return 2
    }
    console.error(err instanceof RemoteCallError ? err.message : `leither app shortcut: ${(err as Error).message}`)
    return 1
  } finally {
    await s.close()
  }
}
