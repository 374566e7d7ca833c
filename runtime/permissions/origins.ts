// App origins: each app is served on an origin of its own, http://<host label>.localhost:<port>/,
// whose label is its app id in base32; the rights checks tell an app's page by its origin.

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567'

/** A DNS label for an app id: lowercase base32 (RFC 4648, no padding) of its 20 bytes, 32 characters. */
export function appHost(appId: string): string {
  const bytes = Buffer.from(appId, 'base64url')
  if (bytes.length !== 20) throw new Error(`not an app id: ${appId.slice(0, 40)}`)
  let out = ''
  let bits = 0
  let value = 0
  for (const b of bytes) {
    value = (value << 8) | b
    bits += 8
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31]
  return out
}

/** The app id a host label stands for, or undefined when it is not one. */
export function appIdFromHost(label: string): string | undefined {
  if (!/^[a-z2-7]{32}$/.test(label)) return undefined
  const bytes: number[] = []
  let bits = 0
  let value = 0
  for (const c of label) {
    value = (value << 5) | BASE32.indexOf(c)
    bits += 5
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff)
      bits -= 8
    }
  }
  return Buffer.from(bytes).toString('base64url')
}

/** The origin an app is served on. */
export const appOrigin = (appId: string, port: number) => `http://${appHost(appId)}.localhost:${port}`

/** The app id of an origin like http://<label>.localhost:<port>, or undefined. */
export function appIdOfOrigin(origin: string | undefined | null): string | undefined {
  if (!origin) return undefined
  const m = /^http:\/\/([a-z2-7]{32})\.localhost(?::\d+)?$/.exec(origin.toLowerCase())
  return m ? appIdFromHost(m[1]) : undefined
}
