// `leither open [APP]`: a one-time sign-in link to the launcher (or an app) for the owner, opened in a browser.
import { spawn } from 'node:child_process'
import { isAppId } from '../apps/ids.ts'
import { RemoteCallError } from '../rpc/client.ts'
import { UsageError, type Parsed } from './args.ts'
import { connect, type NodeSession } from './session.ts'

interface AppRow {
  id: string
  name: string
}

/** An app id, or the id of the installed app with that name (AppList). */
export async function resolveApp(s: NodeSession, what: string): Promise<AppRow> {
  const apps = (await s.call('AppList', [s.sid])) as AppRow[]
  const found = apps.find((a) => a.id === what) ?? apps.find((a) => a.name === what) ?? apps.find((a) => a.name.toLowerCase() === what.toLowerCase())
  if (found) return found
  const known = apps.length ? `installed: ${apps.map((a) => a.name).join(', ')}` : 'no apps are installed (leither app install FILE.lapp|APPID)'
  if (isAppId(what)) throw new UsageError(`app ${what} is not installed on this node; ${known}`)
  throw new UsageError(`no installed app is named "${what}"; ${known}`)
}

/**
 * The link's page on the address the CLI reached: SessionCode names the node as localhost, which
 * is right on the node's machine; with --node pointing elsewhere the launcher lives at that address.
 */
export function linkFor(url: string, node: string): string {
  const link = new URL(url)
  const base = new URL(node)
  const loopback = (h: string) => h === 'localhost' || h === '127.0.0.1' || h === '[::1]'
  if (link.hostname === 'localhost' && !loopback(base.hostname)) {
    link.hostname = base.hostname
    link.port = base.port
  }
  return link.href
}

/** Opens `url` in the desktop's browser; best effort: false when there is none to start. */
export function openBrowser(url: string): boolean {
  const [cmd, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url.replace(/&/g, '^&')]] : ['xdg-open', [url]]
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return false
  try {
    const child = spawn(cmd as string, args as string[], { stdio: 'ignore', detached: true })
    child.on('error', () => {})
    child.unref()
    return true
  } catch {
    return false
  }
}

export async function openCommand(p: Parsed): Promise<number> {
  const s = connect(p)
  try {
    await s.login()
    const app = p.args[0] ? await resolveApp(s, p.args[0]) : undefined
    const { url } = (await s.call('SessionCode', app ? [s.sid, app.id] : [s.sid])) as { code: string; url: string }
    const link = linkFor(url, s.node)
    console.log(app ? `Open ${app.name} (the link works once, within a minute):` : 'Open the launcher (the link works once, within a minute):')
    console.log(link)
    if (!p.flags['no-browser'] && !openBrowser(link)) console.error('(no browser to start here: open the link yourself)')
    return 0
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`leither open: ${err.message}`)
      return 2
    }
    console.error(err instanceof RemoteCallError ? err.message : `leither open: ${(err as Error).message}`)
    return 1
  } finally {
    await s.close()
  }
}
