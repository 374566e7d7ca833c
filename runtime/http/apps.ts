// Apps on origins of their own: a request whose Host is <app label>.localhost gets the app's files
// with a strict Content-Security-Policy, and /entry?aid=<id> (Leither's address of an app) leads there.
import { appIdFromHost, appOrigin, isAppId } from '../apps/ids.ts'
import type { Served } from '../mimei/files/serve.ts'
import { InvalidParams, NotFound } from '../errors.ts'
import { errorResponse, json } from './error-response.ts'
import { pageHeaders } from './csp.ts'
import { fileResponse } from './mimei.ts'
import { hostName } from './origin.ts'

export interface AppFiles {
  /** A file of an installed app (a directory answers with its index), or undefined when there is none. */
  file(appId: string, path: string, slash?: boolean): Promise<Served | undefined>
  get(appId: string): unknown | undefined
}

/** Paths every origin shares with the node: the RPC endpoint, the browser client, public variables. */
const NODE_PATHS = /^\/(webapi\/?|ws3?\/?|lib\/|getvar$)/


/** The app a request's Host names (<label>.localhost), or undefined for the node's own names. */
export function appOfRequest(request: Request): string | undefined {
  const name = hostName(request.headers.get('host') ?? '')
  const m = /^([a-z2-7]{32})\.localhost$/.exec(name)
  return m ? appIdFromHost(m[1]) : undefined
}

/**
 * Answers requests for app origins; undefined (decided at once, not in a promise) when the request
 * is not for an app origin or is for a path every origin shares. Only GET and HEAD reach app
 * files; nothing of the node's own pages is served there.
 */
export function serveAppOrigin(apps: AppFiles, request: Request): Promise<Response> | undefined {
  const appId = appOfRequest(request)
  if (!appId) return undefined
  const url = new URL(request.url)
  if (NODE_PATHS.test(url.pathname)) return undefined
  return appResponse(apps, request, appId, url)
}

async function appResponse(apps: AppFiles, request: Request, appId: string, url: URL): Promise<Response> {
  // App pages may use inline styles (many small apps do); scripts stay their own files.
  const headers = pageHeaders(request.headers.get('host') ?? '', { styles: 'inline' })
  const withHeaders = (r: Response) => {
    for (const [k, v] of Object.entries(headers)) r.headers.set(k, v)
    return r
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') return withHeaders(json(405, { error: 'InvalidParams: app pages are read with GET' }))
  if (!apps.get(appId)) return withHeaders(errorResponse(new NotFound(`no app ${appId} is installed on this node; install it from the launcher`)))
  let path: string
  try {
    path = decodeURIComponent(url.pathname).replace(/^\/+/, '')
  } catch {
    return withHeaders(errorResponse(new InvalidParams('malformed path')))
  }
  const served = await apps.file(appId, path, path === '' || path.endsWith('/'))
  if (!served) return withHeaders(errorResponse(new NotFound(`app ${appId} has no "${path}"`)))
  if (served.kind === 'redirect') return withHeaders(new Response(null, { status: 301, headers: { location: `${url.pathname}/${url.search}` } }))
  return withHeaders(fileResponse(request, served))
}

/** `/entry?aid=<id>`: Leither's address of an app, sent on to the app's own origin. */
export function entryRedirect(apps: AppFiles, request: Request, port: number): Response {
  const url = new URL(request.url)
  const aid = url.searchParams.get('aid') ?? url.searchParams.get('appid') ?? ''
  if (!isAppId(aid)) return errorResponse(new InvalidParams('/entry needs aid=<app id>'))
  if (!apps.get(aid)) return errorResponse(new NotFound(`no app ${aid} is installed on this node`))
  url.searchParams.delete('aid')
  url.searchParams.delete('appid')
  const rest = url.searchParams.toString()
  return new Response(null, { status: 302, headers: { location: `${appOrigin(aid, port)}/${rest ? `?${rest}` : ''}${url.hash}` } })
}
