// Reading an HTTP body with a byte limit, for the endpoint's requests and the client's replies:
// the read stops as soon as the body passes the limit, so an endless body costs at most that much.

/** The body's bytes, or undefined (the stream cancelled) as soon as it passes `max` bytes. */
export async function readBody(body: ReadableStream<Uint8Array>, max: number): Promise<Uint8Array | undefined> {
  const parts: Uint8Array[] = []
  let size = 0
  const reader = body.getReader()
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    size += r.value.byteLength
    if (size > max) {
      await reader.cancel().catch(() => {})
      return undefined
    }
    parts.push(r.value)
  }
  if (parts.length === 1) return parts[0]
  const out = new Uint8Array(size)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.byteLength
  }
  return out
}
