// GET /mm/<mid>[:ver]/<path>: MiMei files over HTTP (Leither's static hosting), with the MiMei's
// read right, ETags, conditional and range requests. Finding and reading files is runtime/mimei's.
import { Elysia } from 'elysia'
import { Internal, InvalidParams, LeitherError } from '../errors.ts'
import type { Logger } from '../log/index.ts'
import type { MiMeiStore } from '../mimei/index.ts'
import type { Grant, Permissions } from '../permissions/index.ts'
import type { Served } from '../mimei/files/serve.ts'
import { noneMatch, parseRange, rangeStillValid } from './range.ts'
import { errorResponse as refuse, json } from './error-response.ts'

export interface MiMeiHttpDeps {
  readonly mimei: MiMeiStore
  readonly permissions: Permissions
  readonly log: Logger
}


/**
 * The session of a request: `Authorization: Bearer <sid>` only. A sid in the URL would be kept in
 * history, logs and Referer headers, so `?sid=` is refused (see serveMiMei).
 */
function sidOf(request: Request, _url: URL): string {
  const auth = request.headers.get('authorization') ?? ''
  const bearer = /^Bearer\s+(\S+)$/i.exec(auth)
  return bearer ? bearer[1] : ''
}

/**
 * Headers on every /mm/ answer. User files share the node's origin, so none may run as one of its
 * pages: nosniff stops a browser from guessing HTML out of another type, and the CSP sandbox gives
 * any document (HTML, SVG, XML, ...) an opaque origin without scripts. CSP is ignored on
 * subresources, so images, scripts and styles loaded by a page are not affected by it.
 */
function userContent(response: Response): Response {
  response.headers.set('x-content-type-options', 'nosniff')
  response.headers.set('content-security-policy', 'sandbox')
  return response
}

function caller(deps: MiMeiHttpDeps, sid: string): Grant {
  return deps.permissions.authorize(sid, 'public', 'GET /mm/')
}

/** The answer for a file: 304, 206, 416 or 200, with the body streamed (never read whole). */
export function fileResponse(request: Request, f: Extract<Served, { kind: 'file' }>): Response {
  const etag = `"${f.cid}"`
  const headers: Record<string, string> = {
    etag,
    'accept-ranges': 'bytes',
    'content-type': f.type,
    'last-modified': new Date(f.modTime).toUTCString(),
    // Revalidate every time: cur changes in place, and the ETag makes the check cheap.
    'cache-control': 'no-cache',
  }
  if (noneMatch(request.headers.get('if-none-match'), etag)) return new Response(null, { status: 304, headers })
  const range = rangeStillValid(request.headers.get('if-range'), etag) ? parseRange(request.headers.get('range'), f.size) : undefined
  if (range === 'unsatisfiable') {
    return json(416, { error: `InvalidParams: the range is outside the file (${f.size} bytes)` }, { 'content-range': `bytes */${f.size}`, etag })
  }
  // Bodies go out for HEAD too: Bun drops them but keeps the length (a null body would say 0).
  if (range) {
    const length = range.end - range.start + 1
    const body = f.body(range.start, range.end + 1)
    return new Response(body, { status: 206, headers: { ...headers, 'content-range': `bytes ${range.start}-${range.end}/${f.size}`, 'content-length': String(length) } })
  }
  const body = f.body(0, f.size)
  // Bun answers Range requests for file bodies by itself; a Range we chose to ignore (several
  // ranges, a stale If-Range) must stay ignored, so such a body goes out as a plain stream.
  const whole = request.headers.has('range') && body instanceof Blob ? body.stream() : body
  return new Response(whole, { status: 200, headers: { ...headers, 'content-length': String(f.size) } })
}

export async function serveMiMei(deps: MiMeiHttpDeps, request: Request): Promise<Response> {
  const url = new URL(request.url)
  if (url.searchParams.has('sid')) {
    return refuse(new InvalidParams('a sid is not accepted in the URL (it would be kept in history and logs); send it as Authorization: Bearer <sid>'))
  }
  const rest = url.pathname.slice('/mm/'.length)
  const slash = rest.indexOf('/')
  // /mm/<mid> has no path at all: send the browser to the root directory (relative links work).
  if (slash < 0) return new Response(null, { status: 301, headers: { location: `${url.pathname}/${url.search}` } })
  let spec: string
  let path: string
  try {
    spec = decodeURIComponent(rest.slice(0, slash))
    path = decodeURIComponent(rest.slice(slash + 1))
  } catch {
    return refuse(new InvalidParams('the URL is not valid percent-encoding'))
  }
  const colon = spec.indexOf(':')
  const mid = colon < 0 ? spec : spec.slice(0, colon)
  const ver = colon < 0 ? undefined : spec.slice(colon + 1)
  try {
    const served = await deps.mimei.files.servable(caller(deps, sidOf(request, url)), mid, ver, path, path === '' || path.endsWith('/'))
    if (served.kind === 'redirect') return new Response(null, { status: 301, headers: { location: `${url.pathname}/${url.search}` } })
    return fileResponse(request, served)
  } catch (err) {
    // A caller's condition (4xx in runtime/errors.ts) is answered with its text; the node's own failures are logged.
    if (err instanceof LeitherError && err.status < 500) return refuse(err)
    deps.log.error('serving a MiMei file failed', { path: url.pathname, error: (err as Error)?.message })
    return refuse(new Internal('the node failed to serve this file; see its log'))
  }
}

export function mimeiRoutes(deps: MiMeiHttpDeps) {
  return new Elysia({ name: 'mimei-files' })
    .get('/mm/*', async ({ request }) => userContent(await serveMiMei(deps, request)))
    .head('/mm/*', async ({ request }) => userContent(await serveMiMei(deps, request)))
}
