// Chinese in Weibo's screenshots: headless Chromium has no CJK font here, so the pages of the
// Weibo browser tests get Noto Sans SC from the npm package @fontsource/noto-sans-sc (a
// devDependency: nothing is downloaded at run time), as a stylesheet on the app's own origin (its
// CSP allows styles and fonts from 'self') under "PingFang SC", a name the app's style already lists
// for Chinese.
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'

export const CJK_FAMILY = 'PingFang SC'
const DIR = dirname(Bun.resolveSync('@fontsource/noto-sans-sc/400.css', import.meta.dir))
const PATH = '/__weibo-test-font/'
let faces: { file: string; range: string }[] | undefined

/** The package's faces of weight 400: each subset's woff2 file and the characters it holds. */
function readFaces(): { file: string; range: string }[] {
  const css = readFileSync(join(DIR, '400.css'), 'utf8')
  return [...css.matchAll(/url\(\.\/files\/([\w.-]+\.woff2)\)[^;]*;\s*unicode-range:\s*([^;]+);/g)].map((m) => ({ file: m[1], range: m[2] }))
}

/**
 * Adds the font to every page of `ctx` before its first layout (the FontFace API from an init
 * script: text laid out before a stylesheet's faces arrive stays as boxes), and serves its files.
 */
export async function withCjkFont(ctx: BrowserContext): Promise<void> {
  faces ??= readFaces()
  await ctx.route((url) => url.pathname.startsWith(PATH), async (route) => {
    const name = new URL(route.request().url()).pathname.slice(PATH.length)
    if (!/^[\w.-]+\.woff2$/.test(name)) return route.fulfill({ status: 404 })
    await route.fulfill({ body: readFileSync(join(DIR, 'files', name)), contentType: 'font/woff2' })
  })
  await ctx.addInitScript(
    ([family, path, list]) => {
      // One weight for all: bold text is drawn with it (a 400-only face leaves bold CJK as boxes).
      // Every subset is loaded now (3.7 MB from disk), not when text first needs it: text drawn
      // while its subset was still on the way could stay as boxes in a screenshot.
      for (const f of list) {
        const face = new FontFace(family, `url(${path}${f.file}) format('woff2')`, { unicodeRange: f.range, weight: '100 900' })
        ;(document.fonts as unknown as { add(face: FontFace): void }).add(face)
        face.load().catch(() => {})
      }
    },
    [CJK_FAMILY, PATH, faces] as const,
  )
}

/** A screenshot once the fonts the screen needs are loaded (Chromium loads a subset when text first needs it). */
export async function screenshot(page: Page, path: string): Promise<void> {
  await page.evaluate(async () => void (await document.fonts.ready))
  await page.screenshot({ path })
}
