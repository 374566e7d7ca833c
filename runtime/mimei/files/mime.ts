// Media types of files: from the name's extension, else sniffed from the first bytes.

/** How many leading bytes sniffing looks at (as the WHATWG mime-sniffing standard does). */
export const SNIFF_BYTES = 512
export const DIRECTORY_TYPE = 'inode/directory'
const UNKNOWN = 'application/octet-stream'

const MAGIC: [number[], string][] = [
  [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'image/png'],
  [[0xff, 0xd8, 0xff], 'image/jpeg'],
  [[0x47, 0x49, 0x46, 0x38], 'image/gif'],
  [[0x25, 0x50, 0x44, 0x46, 0x2d], 'application/pdf'],
  [[0x50, 0x4b, 0x03, 0x04], 'application/zip'],
  [[0x1f, 0x8b], 'application/gzip'],
  [[0x00, 0x61, 0x73, 0x6d], 'application/wasm'],
  [[0x4f, 0x67, 0x67, 0x53], 'application/ogg'],
  [[0x49, 0x44, 0x33], 'audio/mpeg'],
]

const startsWith = (bytes: Uint8Array, magic: number[], at = 0) => magic.every((b, i) => bytes[at + i] === b)
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0))

/** The type the extension names (Bun's table), or undefined when the name says nothing. */
export function typeByName(name: string): string | undefined {
  const t = Bun.file(name).type
  return t === UNKNOWN ? undefined : t
}

/** Guesses a type from leading bytes: known signatures, HTML, then text versus binary. */
export function sniffType(head: Uint8Array): string {
  for (const [magic, type] of MAGIC) if (startsWith(head, magic)) return type
  if (startsWith(head, ascii('RIFF')) && startsWith(head, ascii('WEBP'), 8)) return 'image/webp'
  if (startsWith(head, ascii('ftyp'), 4)) return 'video/mp4'
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head).trimStart().toLowerCase()
  if (text.startsWith('<!doctype html') || text.startsWith('<html')) return 'text/html;charset=utf-8'
  if (text.startsWith('<svg') || (text.startsWith('<?xml') && text.includes('<svg'))) return 'image/svg+xml'
  if (text.startsWith('<?xml')) return 'application/xml'
  if (head.length === 0) return 'text/plain;charset=utf-8'
  // Text when there are no control bytes besides whitespace and the bytes are UTF-8 (a
  // sequence cut at the end of the window is allowed).
  if (head.some((b) => b < 0x09 || (b > 0x0d && b < 0x20 && b !== 0x1b))) return UNKNOWN
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true })
    return 'text/plain;charset=utf-8'
  } catch {
    return UNKNOWN
  }
}

/** The type of a file named `name` whose first bytes `head()` reads only when the name says nothing. */
export function mimeType(name: string, head: () => Uint8Array): string {
  return typeByName(name) ?? sniffType(head())
}
