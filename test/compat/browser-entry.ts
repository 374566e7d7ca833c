// Bundled for the browser by browser-peers.ts: the test peers of peers.ts inside a page, driven through window.compatPeers.
//
// hprose-html5 and hprose-js are loaded before this script from their own dist bundles (each
// defines the global `hprose`); @hprose/rpc-html5 has no browser bundle, so its CommonJS modules
// (with @hprose/rpc-core and @hprose/io) are bundled in here. Results cross back to the test as
// Norm values (JSON-like); failures as { error }, so the test sees the node's text unchanged.
import * as core from '@hprose/rpc-core'
import '@hprose/rpc-html5'
import * as io from '@hprose/io'
import { type ClientName, type Peer, hprose2Peer, hprose3Peer } from './peers.ts'

const peers = new Map<number, Peer>()
let next = 1

const api = {
  open(client: ClientName, url: string): number {
    const id = next++
    const global = (globalThis as { hprose?: any }).hprose
    if (client === '@hprose/rpc-html5') peers.set(id, hprose3Peer(core as any, io as any, url))
    else if (global) peers.set(id, hprose2Peer(client, global, url))
    else throw new Error(`${client}: no global hprose on this page`)
    return id
  },
  async call(id: number, op: string, args: unknown[]): Promise<{ value: unknown } | { error: string }> {
    const peer = peers.get(id)
    if (!peer) return { error: `no peer ${id}` }
    try {
      const value = await (peer as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[op]!(...args)
      if (op === 'close') peers.delete(id)
      return { value: value ?? null }
    } catch (err) {
      return { error: err instanceof Error ? err.message : String(err) }
    }
  },
}

;(globalThis as { compatPeers?: typeof api }).compatPeers = api
