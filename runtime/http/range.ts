// HTTP validators and byte ranges (RFC 9110 §8.8.3, §13.1.2, §14): the parts /mm/ needs.

/** An inclusive byte range, as Content-Range writes it. */
export interface ByteRange {
  readonly start: number
  readonly end: number
}

/**
 * Parses a Range header against a size. Returns the range, 'unsatisfiable' (→ 416), or
 * undefined when the header is absent, malformed or asks for several ranges — RFC 9110 lets a
 * server ignore such a header and send the whole file, which is simpler than multipart answers.
 */
export function parseRange(header: string | null, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (!header) return undefined
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header)
  if (!m || (m[1] === '' && m[2] === '')) return undefined
  if (m[1] === '') {
    // bytes=-n: the last n bytes.
    const n = Number(m[2])
    if (n === 0 || size === 0) return 'unsatisfiable'
    return { start: Math.max(0, size - n), end: size - 1 }
  }
  const start = Number(m[1])
  const end = m[2] === '' ? Infinity : Number(m[2])
  if (end < start) return undefined
  if (start >= size) return 'unsatisfiable'
  return { start, end: Math.min(end, size - 1) }
}

/** If-None-Match: true when one of the listed tags (weakly compared) or `*` matches. */
export function noneMatch(header: string | null, etag: string): boolean {
  if (!header) return false
  const bare = (t: string) => t.trim().replace(/^W\//, '')
  return header.split(',').some((t) => t.trim() === '*' || bare(t) === bare(etag))
}

/** If-Range: a range applies only while the representation is still the one the client had. */
export function rangeStillValid(header: string | null, etag: string): boolean {
  // Strong comparison only; a date or a weak tag never validates (we do not send dates as validators).
  return !header || header.trim() === etag
}
