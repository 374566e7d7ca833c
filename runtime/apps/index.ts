// Apps: installed packages (installer.ts: the subsystem), and the bundled apps (apps/ in the
// source tree, embedded in the binary) with lookup of their files.
import { EMBEDDED_APPS } from './embedded.gen.ts'

export { apps, Apps, type AppInfo, type AppsComponents } from './installer.ts'

/** Names of the bundled apps, from their folders. */
export function bundledApps(): string[] {
  return [...new Set(Object.keys(EMBEDDED_APPS).map((p) => p.split('/')[0]))].sort()
}

/**
 * A bundled app's file, or undefined. Only paths in the embedded index resolve, so `..` and
 * absolute paths cannot reach anything else on disk.
 */
export function bundledFile(app: string, path: string): Blob | undefined {
  const file = EMBEDDED_APPS[`${app}/${path === '' ? 'index.html' : path}`]
  return file === undefined ? undefined : Bun.file(file)
}
