// Which Host and Origin headers the node answers: the DNS-rebinding and cross-site defence of every route.
//
// Host: a page on evil.example whose name is re-pointed at 127.0.0.1 talks to the node as "same
// origin", but its requests still say `Host: evil.example`; only names the node knows are served.
// Origin: browsers send it on cross-site requests and on every WebSocket upgrade; pages elsewhere
// may not call the node. A request without Origin comes from a program (curl, Hprose clients, the
// CLI), which no web page can make a browser send, so it is allowed.
import { networkInterfaces } from 'node:os'

export interface OriginPolicyInit {
  /** The address the server is bound to; 0.0.0.0 or :: means every interface of the machine. */
  readonly bindHost: string
  /** The bound port (known once the server listens). */
  readonly port: () => number
  /** Extra host names (config allowedHosts). */
  readonly hosts?: readonly string[]
  /** Extra origins (config allowedOrigins). */
  readonly origins?: readonly string[]
}

export interface OriginPolicy {
  /** True when the Host header names this node: a localhost name, a configured name or one of its addresses. */
  hostAllowed(host: string | null): boolean
  /** True when no Origin was sent, or it is the node's own origin, a configured one or a registered one. */
  originAllowed(origin: string | null): boolean
  /**
   * Accepts one more origin, e.g. an app's own `http://<appid>.localhost:<port>` (Host names under
   * .localhost are already served). Returns the function that withdraws it.
   */
  allowOrigin(origin: string): () => void
}

const WILDCARD = new Set(['0.0.0.0', '::', '[::]', ''])
/** Interface addresses are re-read at most this often, and only when a Host is not recognised. */
const INTERFACES_TTL_MS = 5000

/** "Example.COM:80" → "example.com"; "[::1]:80" → "[::1]"; IPv6 literals keep their brackets. */
export function hostName(host: string): string {
  const h = host.trim().toLowerCase()
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1)
  const colon = h.indexOf(':')
  return colon < 0 ? h : h.slice(0, colon)
}

/** localhost, *.localhost (RFC 6761 §6.3: always loopback), 127.0.0.1 and [::1]. */
export function isLocalhostName(name: string): boolean {
  return name === 'localhost' || name.endsWith('.localhost') || name === '127.0.0.1' || name === '[::1]'
}

const bracketed = (address: string) => (address.includes(':') ? `[${address.toLowerCase()}]` : address.toLowerCase())

function interfaceAddresses(): Set<string> {
  const out = new Set<string>()
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (!a.address.includes('%')) out.add(bracketed(a.address))
  return out
}

export function originPolicy(init: OriginPolicyInit): OriginPolicy {
  const configured = new Set((init.hosts ?? []).map((h) => h.toLowerCase()))
  const origins = new Map<string, number>()
  for (const o of init.origins ?? []) origins.set(o.toLowerCase(), 1)
  const wildcard = WILDCARD.has(init.bindHost)
  let addresses = wildcard ? interfaceAddresses() : new Set([bracketed(init.bindHost.replace(/^\[|\]$/g, ''))])
  let readAt = Date.now()

  /** The node's own names: its addresses (re-read when a name misses, so a new DHCP lease counts). */
  const ownAddress = (name: string) => {
    if (addresses.has(name)) return true
    if (!wildcard || Date.now() - readAt < INTERFACES_TTL_MS) return false
    addresses = interfaceAddresses()
    readAt = Date.now()
    return addresses.has(name)
  }
  /** Names whose origin is the node's own (not every *.localhost: those are apps, registered one by one). */
  const ownName = (name: string) => name === 'localhost' || name === '127.0.0.1' || name === '[::1]' || configured.has(name) || ownAddress(name)

  return {
    hostAllowed(host) {
      if (!host) return false
      const name = hostName(host)
      return isLocalhostName(name) || configured.has(name) || ownAddress(name)
    },
    originAllowed(origin) {
      if (origin === null) return true
      const o = origin.trim().toLowerCase()
      if (origins.has(o)) return true
      let url: URL
      try {
        url = new URL(o)
      } catch {
        return false // "null" (sandboxed pages, file:) and anything malformed
      }
      if (url.protocol !== 'http:' || url.origin !== o) return false
      // An app's origin (<32 base32>.localhost on this port) can only be served by this node itself,
      // so its pages may call; the dispatcher then binds each session to its own app's origin.
      return Number(url.port || 80) === init.port() && (ownName(url.hostname.toLowerCase()) || /^[a-z2-7]{32}\.localhost$/.test(url.hostname))
    },
    allowOrigin(origin) {
      const o = origin.toLowerCase()
      origins.set(o, (origins.get(o) ?? 0) + 1)
      return () => {
        const n = (origins.get(o) ?? 1) - 1
        if (n > 0) origins.set(o, n)
        else origins.delete(o)
      }
    },
  }
}

/** Why a request is refused (status 403), or undefined when it may go on to its route. */
export function refusal(policy: OriginPolicy, request: Request): string | undefined {
  const host = request.headers.get('host')
  if (!policy.hostAllowed(host)) {
    return `Host "${clip(host ?? '')}" is not a name of this node (DNS-rebinding defence); use localhost or its address, or add the name to allowedHosts in leither.json`
  }
  const origin = request.headers.get('origin')
  if (origin !== null && callsTheNode(request) && !policy.originAllowed(origin)) {
    return `pages from ${clip(origin)} may not call this node; open the page from the node itself, or add its origin to allowedOrigins in leither.json`
  }
  return undefined
}

const clip = (text: string) => (text.length > 100 ? `${text.slice(0, 100)}…` : text)

/** The RPC endpoint, WebSocket upgrades and anything that is not a plain read. */
function callsTheNode(request: Request): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return true
  if (request.headers.has('upgrade')) return true
  const path = new URL(request.url).pathname
  return path.startsWith('/webapi') || path.startsWith('/ws/') || path.startsWith('/ws3/')
}
