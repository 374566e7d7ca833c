// The HTTP server on the node's one port (Elysia): GetVar, bundled apps, JSON errors.
import { Elysia } from 'elysia'
import { bundledFile } from '../apps/index.ts'
import { Internal, InvalidParams, NotFound, PermissionDenied } from '../errors.ts'
import { errorResponse, json } from './error-response.ts'
import type { BaseComponents, Subsystem } from '../kernel.ts'
import type { VarTable } from '../vars.ts'
import type { RpcHandler } from '../rpc/protocol.ts'
import type { MiMeiStore } from '../mimei/index.ts'
import type { Permissions } from '../permissions/index.ts'
import { mimeiRoutes } from './mimei.ts'
import { entryRedirect, serveAppOrigin, type AppFiles } from './apps.ts'
import { pageHeaders } from './csp.ts'
import { originPolicy, refusal, type OriginPolicy } from './origin.ts'
import { rpcRoutes, websocketOptions } from './rpc.ts'
import type { Monitor } from '../monitor/index.ts'
// The generated browser client (bun run gen); a "file" import embeds it in compiled binaries.
import leitherJs from './static/leither.js' with { type: 'file' }

export interface HttpServer extends Subsystem {
  /** The bound port, known after start (the config may say 0). */
  readonly port: number
  readonly hostname: string
  /** Which Host and Origin headers are answered; apps register their origins here. */
  readonly origins: OriginPolicy
}

export interface HttpComponents extends BaseComponents {
  readonly vars: () => VarTable
  readonly rpc: RpcHandler
  /** For /mm/: MiMei files, checked against the requesting session's rights. */
  readonly mimei: MiMeiStore
  readonly permissions: Permissions
  /** Installed apps, served on their own origins (absent: no apps). */
  readonly apps?: AppFiles
  /** Counts each request by route template (absent: not counted). */
  readonly monitor?: Pick<Monitor, 'http'>
}

/** The request's context as the monitor reads it: when it arrived, which route answered. */
interface Timed {
  startedAt: number
  /** The route template (an app origin's files are all one route). */
  route?: string
  set: { status?: number | string }
  responseValue?: unknown
  request: Request
}

/** A failed request: the handler threw, or the reply is an HTTP error. */
function failed(c: Timed): boolean {
  const status = c.responseValue instanceof Response ? c.responseValue.status : c.set.status
  return typeof status === 'number' && status >= 400
}

const notFound = (what: string) => errorResponse(new NotFound(what))

/**
 * The node's own pages (the launcher, holding the user's session): scripts, styles and connections
 * to the node only, app icons from app origins, never framed, no referrer.
 */
function nodePage(request: Request, file: Blob | undefined): Response | undefined {
  if (!file) return undefined
  return new Response(file, { headers: pageHeaders(request.headers.get('host') ?? '', { styles: 'self', images: 'http://*.localhost:*' }) })
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]'])
/** Refusals logged per minute at most (a rebinding page can send thousands). */
const REFUSALS_LOGGED_PER_MIN = 10

export function http() {
  return (components: HttpComponents): HttpServer => {
    const { config } = components
    const log = components.log.child('http')
    const boundPort = (): number => app?.server?.port ?? config.port
    const origins = originPolicy({ bindHost: config.host, port: boundPort, hosts: config.allowedHosts, origins: config.allowedOrigins })
    const record = (c: Timed, threw: boolean) => {
      components.monitor?.http(c.request.method, c.route ?? '(no route)', performance.now() - c.startedAt, threw || failed(c))
    }
    let logged = { minute: 0, count: 0 }
    const refuse = (request: Request, why: string) => {
      const minute = Math.floor(Date.now() / 60_000)
      if (logged.minute !== minute) logged = { minute, count: 0 }
      if (++logged.count <= REFUSALS_LOGGED_PER_MIN) log.warn('request refused', { path: new URL(request.url).pathname, why })
      return errorResponse(new PermissionDenied(why))
    }
    const routes = () =>
      new Elysia({ websocket: websocketOptions(config.maxBodyBytes) })
        // First, for every route and the WebSocket upgrades: Host, then Origin (see origin.ts).
        .onRequest((ctx) => {
          ;(ctx as unknown as Timed).startedAt = performance.now()
          const { request } = ctx
          const why = refusal(origins, request)
          if (!why) return
          components.monitor?.http(request.method, '(refused: host or origin)', 0, true)
          return refuse(request, why)
        })
        // Then app origins: <app label>.localhost serves that app's files and nothing of the node's pages.
        .onRequest((ctx) => {
          const served = components.apps ? serveAppOrigin(components.apps, ctx.request) : undefined
          if (!served || !components.monitor) return served
          const c = ctx as unknown as Timed
          c.route = '(app origin files)'
          return served.then((res) => (record(c, res.status >= 400), res))
        })
        // Every routed request, counted under its route template (/mm/*, not the path): as its handler's
        // reply is mapped, or as it fails. (onAfterResponse would cost a setImmediate per request.)
        .mapResponse((ctx) => void record(ctx as unknown as Timed, false))
        .onError((ctx) => void record(ctx as unknown as Timed, true))
        .get('/entry', ({ request }) => (components.apps ? entryRedirect(components.apps, request, boundPort()) : notFound('no apps on this node')))
        .use(rpcRoutes(components.rpc, log, config.maxBodyBytes, origins))
        .use(mimeiRoutes({ mimei: components.mimei, permissions: components.permissions, log }))
        .get('/getvar', ({ query }) => {
          const name = String(query.name ?? '').toLowerCase()
          const read = components.vars()[name]
          if (!read) return notFound(`no public variable "${name}"; known: ${Object.keys(components.vars()).join(', ')}`)
          return json(200, read())
        })
        .get('/lib/leither.js', () => new Response(Bun.file(leitherJs as unknown as string), { headers: { 'content-type': 'text/javascript; charset=utf-8' } }))
        .get('/', ({ request }) => nodePage(request, bundledFile('launcher', '')) ?? notFound('launcher app is not bundled'))
        .get('/apps/:app/*', ({ params, request }) => {
          return nodePage(request, bundledFile(params.app, params['*'])) ?? notFound(`no file ${params['*']} in app ${params.app}`)
        })
        .onError(({ code, error, request }) => {
          if (code === 'NOT_FOUND') return notFound(`no route ${new URL(request.url).pathname}`)
          if (code === 'PARSE' || code === 'VALIDATION') return errorResponse(new InvalidParams((error as Error).message))
          log.error('request failed', { path: new URL(request.url).pathname, error: (error as Error)?.message })
          return errorResponse(new Internal('the node failed to handle this request; see its log'))
        })

    let app: ReturnType<typeof routes> | undefined

    return {
      name: 'http',
      get port() {
        return app?.server?.port ?? 0
      },
      get hostname() {
        return app?.server?.hostname ?? config.host
      },
      origins,
      start() {
        // Bun's own body limit is set well above ours, so that over-limit requests reach the
        // route and get a 413 that browser clients can read (with CORS headers).
        const server = routes().listen({ port: config.port, hostname: config.host, maxRequestBodySize: Math.max(config.maxBodyBytes * 4, 64 * 1024 * 1024) })
        app = server
        log.info('listening', { host: config.host, port: server.server?.port })
        if (!LOOPBACK.has(config.host)) {
          log.warn('HTTP and RPC are open to the network: other machines can reach this node (pages elsewhere still cannot call it)', {
            host: config.host,
            allowedHosts: config.allowedHosts,
            allowedOrigins: config.allowedOrigins,
          })
        }
      },
      async stop() {
        // Stop accepting; requests already in flight finish (Bun waits for them).
        await app?.stop(false)
        app = undefined
      },
    }
  }
}
