// Where an encrypted stream's CPU time goes: a `bun --cpu-prof` profile summed by layer (cipher,
// Noise framing, Yamux, stream plumbing, socket), for bench/net.ts.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string }
  children?: number[]
}

export const LAYERS = ['cipher', 'noise framing', 'yamux', 'stream plumbing', 'socket', 'other'] as const
export type Layer = (typeof LAYERS)[number]

/** The layer of a script, by where it lives; undefined for a frame without one (native code). */
function layerOf(frame: ProfileNode['callFrame']): Layer | undefined {
  const { url, functionName: fn } = frame
  // Native frames that are the cipher itself: OpenSSL through FFI, the wasm ChaCha20.
  if (fn.startsWith('EVP_') || fn.startsWith('.wasm-function')) return 'cipher'
  // bun:ffi's trampolines count for whoever called them, like other native frames.
  if (!url || url === 'bun:ffi') return undefined
  if (/runtime\/net\/(libcrypto|crypto)\.ts|@noble\/ciphers|as-chacha20poly1305|@noble\/hashes|as-sha256/.test(url)) return 'cipher'
  if (url.includes('@libp2p/noise')) return 'noise framing'
  if (url.includes('@libp2p/yamux')) return 'yamux'
  if (/@libp2p\/utils|uint8arraylist|main-event|\/it-|uint8arrays|@libp2p\/interface|\/libp2p\/dist/.test(url)) return 'stream plumbing'
  if (/^node:|^internal:|@libp2p\/tcp|@libp2p\/websockets|\/ws\/|bench\/net-stack/.test(url)) return 'socket'
  return 'other'
}

/**
 * Share of sampled (busy) time per layer. A sample counts for the innermost frame that belongs to
 * a layer, so native helpers (memcpy, Buffer.concat, FFI calls) count for whoever called them.
 */
export function layerShares(profilePath: string): Record<Layer, number> {
  const profile = JSON.parse(readFileSync(profilePath, 'utf8')) as { nodes: ProfileNode[]; samples: number[] }
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const memo = new Map<number, Layer>()
  const resolve = (id: number): Layer => {
    const known = memo.get(id)
    if (known) return known
    const node = byId.get(id)
    const up = parent.get(id)
    const layer = (node && layerOf(node.callFrame)) ?? (up === undefined ? 'other' : resolve(up))
    memo.set(id, layer)
    return layer
  }
  // Loading modules is start-up, not streaming: samples under a module's top level are left out.
  const loading = new Map<number, boolean>()
  const underModule = (id: number): boolean => {
    const known = loading.get(id)
    if (known !== undefined) return known
    const up = parent.get(id)
    const v = byId.get(id)?.callFrame.functionName === '(module)' || (up !== undefined && underModule(up))
    loading.set(id, v)
    return v
  }
  const counts = Object.fromEntries(LAYERS.map((l) => [l, 0])) as Record<Layer, number>
  let total = 0
  for (const id of profile.samples) {
    if (underModule(id)) continue
    counts[resolve(id)]++
    total++
  }
  for (const l of LAYERS) counts[l] = counts[l] / (total || 1)
  return counts
}

/** The one .cpuprofile a process wrote into `dir`. */
export function profileIn(dir: string): string {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
  if (!file) throw new Error(`no .cpuprofile in ${dir}`)
  return join(dir, file)
}
