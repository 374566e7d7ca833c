// A small Hprose client over HTTP for the CLI and tests: one call per request, our own codec.
import { Reader, Tag, tagName, Writer } from './codec/index.ts'

/** The node answered with an `E` reply; `message` is its text (starting with the error code). */
export class RemoteCallError extends Error {}

export async function callRemote(baseUrl: string, method: string, args: unknown[], timeoutMs = 30_000): Promise<unknown> {
  const body = new Writer().writeTag(Tag.Call).write(method).reset().write(args).writeTag(Tag.End).toBytes()
  let response: Response
  try {
    response = await fetch(new URL('/webapi/', baseUrl), {
      method: 'POST',
      body: body as Uint8Array<ArrayBuffer>,
      signal: AbortSignal.timeout(timeoutMs),
    })
  } catch (err) {
    throw new Error(`cannot reach the node at ${baseUrl} (${(err as Error).message}); is it running?`)
  }
  if (response.status !== 200) throw new Error(`the node at ${baseUrl} answered HTTP ${response.status}: ${await response.text()}`)
  const reader = new Reader(new Uint8Array(await response.arrayBuffer()))
  const tag = reader.readTag()
  if (tag === Tag.Error) throw new RemoteCallError(reader.readString())
  if (tag !== Tag.Result) throw new Error(`unexpected reply from ${baseUrl}: starts with ${tagName(tag)}`)
  return reader.readValue()
}
