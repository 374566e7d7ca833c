// Shared pieces of the apps browser tests: a test app whose page signs in and makes one granted and
// one ungranted call, package files on disk, and where screenshots go.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { KeyPair } from '../../runtime/identity/index.ts'
import { appFiles, signedTar } from '../apps/helpers.ts'

export const SCREENSHOTS = join(import.meta.dir, 'screenshots')
mkdirSync(SCREENSHOTS, { recursive: true })

/**
 * The test app's script: signIn(), then ReadMsg (needs `msg`) and SwarmPeers (needs `net`); the
 * results go into #out as JSON and body[data-runs] counts the runs. #again runs the calls again.
 */
const APP_JS = `import { LeitherClient } from '/lib/leither.js'
const node = new LeitherClient()
window.leither = node
async function run() {
  const out = { signedIn: await node.signIn().catch((e) => 'error: ' + e.message) }
  for (const [name, call] of [['granted', () => node.ReadMsg()], ['ungranted', () => node.SwarmPeers()]]) {
    try {
      out[name] = { ok: true, value: await call() }
    } catch (e) {
      out[name] = { ok: false, error: e.message }
    }
  }
  document.getElementById('out').textContent = JSON.stringify(out)
  document.body.dataset.runs = String(Number(document.body.dataset.runs || 0) + 1)
}
document.getElementById('again').addEventListener('click', run)
run()
`

/** The files of the test app: its page runs APP_JS; it asks for msg and net with reasons. */
export function testAppFiles(name: string) {
  return appFiles({
    name,
    manifest: {
      description: 'A test app that makes one call it may and one it may not',
      permissions: [
        { name: 'msg', reason: 'to list your messages' },
        { name: 'net', reason: 'to show the nodes you are connected to' },
      ],
    },
    files: {
      'index.html': `<!doctype html><meta charset="utf-8"><title>${name}</title><body><h1>${name}</h1><pre id="out"></pre><button id="again">again</button><script type="module" src="js/app.js"></script></body>`,
      'js/app.js': APP_JS,
      'icon.svg': '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48"><rect width="48" height="48" rx="10" fill="#f5a524"/><path d="M14 14h20v20H14z" fill="#fff"/></svg>',
    },
  })
}

/** Writes a signed package of the test app to `dir` and returns its path. */
export async function writeTestPackage(dir: string, author: KeyPair, name: string): Promise<string> {
  const file = join(dir, `${name}.lapp`)
  writeFileSync(file, await signedTar(author, testAppFiles(name)))
  return file
}

export interface AppPageResult {
  signedIn: boolean | string
  granted: { ok: boolean; value?: unknown; error?: string }
  ungranted: { ok: boolean; value?: unknown; error?: string }
}
