// Direct messages sealed end to end: the key two users share comes from their nodes (UserBoxKey:
// X25519 of their keys, HKDF over Weibo's data space and both ids); the page seals with AES-256-GCM
// (WebCrypto), binding sender and recipient as associated data. Nodes carry and store ciphertext only.
const enc = new TextEncoder()
const dec = new TextDecoder()

const fromB64 = (s) => Uint8Array.from(atob(String(s).replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0))
export const toB64 = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')

export class Sealer {
  constructor(node) {
    this.node = node
    /** peer user id → Promise<CryptoKey> */
    this.keys = new Map()
  }

  /** My Ed25519 public key (base64url), published in my profile so others can write to me. */
  async publicKey() {
    return (await this.node.UserBoxKey()).pk
  }

  /** The AES key shared with `peer`, whose public key is `peerPk` (the node checks it is hers). */
  key(peer, peerPk) {
    if (!this.keys.has(peer)) {
      const p = (async () => {
        const r = await this.node.UserBoxKey(peerPk)
        if (r.peer !== peer) throw new Error(`the public key in ${peer}'s profile is not hers`)
        return crypto.subtle.importKey('raw', fromB64(r.key), 'AES-GCM', false, ['encrypt', 'decrypt'])
      })()
      p.catch(() => this.keys.delete(peer))
      this.keys.set(peer, p)
    }
    return this.keys.get(peer)
  }

  /** `{iv, ct}` (base64url) of `{text, at}` from `from` to `to`. */
  async seal(from, to, peerPk, value) {
    const iv = crypto.getRandomValues(new Uint8Array(12))
    const k = await this.key(to, peerPk)
    const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: enc.encode(`${from}\n${to}`) }, k, enc.encode(JSON.stringify(value))))
    return { iv: toB64(iv), ct: toB64(ct) }
  }

  /** The value sealed from `from` to `to`, or undefined when it does not open (tampered, or another key). */
  async open(from, to, peer, peerPk, box) {
    try {
      const k = await this.key(peer, peerPk)
      const pt = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: fromB64(box.iv), additionalData: enc.encode(`${from}\n${to}`) }, k, fromB64(box.ct))
      return JSON.parse(dec.decode(pt))
    } catch {
      return undefined
    }
  }
}
