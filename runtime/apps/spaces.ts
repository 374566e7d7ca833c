// Data namespaces: an app whose manifest says `"data": "weibo"` keeps its MiMei and data areas
// under the name "ns:weibo" instead of its app id, so a user's area has the same id on every node.
//
// Why this is safe: a namespace is held on a node by one publisher (an app author key). The first
// installed app that declares it claims it; later apps declaring it install only when signed by
// the same publisher (an update, or a sibling app) or by the node owner (whose node it is: the
// owner's own builds, such as the bundled apps signed at first start, may take it over). Any other
// publisher's app is refused at install with Conflict. So on a node only code of one publisher
// (chosen by the owner) acts on the data of a namespace, with the session of the user who runs
// it — as an app does on its own app-id areas. Data written elsewhere by another publisher's app
// under the same name is just that user's MiMei: records are signed by the user's key, not the
// app's, and a MiMei id names its author, so nobody writes into another user's area.
import { Conflict } from '../errors.ts'
import type { Database } from 'bun:sqlite'
import type { AppManifest } from './manifest.ts'

/** The MiMei `app` of a namespace's data: "ns:" is not in base64url, so it never equals an app id. */
export const spaceName = (data: string) => `ns:${data}`

const KEY = (data: string) => `dataspace:${data}`

export interface SpaceClaim {
  readonly author: string
  readonly app: string
}

export class DataSpaces {
  /** app id → its data space, for the apps installed here (rights checks read it on every call); built on first use. */
  private cache: Map<string, string> | undefined

  constructor(
    /** The store's database (open once the store has started). */
    private readonly database: () => Database,
    private readonly owner: () => string,
  ) {}

  private get db(): Database {
    return this.database()
  }

  claim(data: string): SpaceClaim | undefined {
    const row = this.db.query('SELECT value FROM meta WHERE key = ?').get(KEY(data)) as { value: string } | null
    return row ? (JSON.parse(row.value) as SpaceClaim) : undefined
  }

  /** Throws Conflict when an app by `author` may not use namespace `data` here (see the file comment). */
  check(manifest: AppManifest, author: string): void {
    const data = manifest.data
    if (!data) return
    const held = this.claim(data)
    if (!held || held.author === author || author === this.owner()) return
    throw new Conflict(
      `data namespace "${data}" belongs on this node to apps by ${held.author} (app ${held.app}); an app by ${author} may not use it. ` +
        'Uninstall the apps of that publisher without keeping their data first, or install a build of this app signed by its publisher or by the node owner',
    )
  }

  /** Records the claim of an app just installed (after check). */
  take(manifest: AppManifest, author: string, appId: string): void {
    const data = manifest.data
    if (data) {
      const held = this.claim(data)
      if (!held || held.author !== author) {
        this.db.query('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(KEY(data), JSON.stringify({ author, app: appId }))
      }
    }
    this.reload()
  }

  /**
   * After an uninstall of an app by `author` that drops the app's data: a namespace of hers that no
   * installed app of hers declares any more is free (its areas go too). With the data kept, the claim stays, so no other
   * publisher's app can reach the data left behind. Returns the freed spaces.
   */
  release(keepData: boolean, author: string): string[] {
    const freed: string[] = []
    if (keepData) return this.reload(), freed
    for (const { key, value } of this.db.query("SELECT key, value FROM meta WHERE key LIKE 'dataspace:%'").all() as { key: string; value: string }[]) {
      const data = key.slice('dataspace:'.length)
      const held = JSON.parse(value) as SpaceClaim
      // Only the uninstalled app's publisher can lose a claim: another's stays, with its data.
      if (held.author === author && !this.declaredBy(data, held.author)) {
        this.db.query('DELETE FROM meta WHERE key = ?').run(key)
        freed.push(spaceName(data))
      }
    }
    this.reload()
    return freed
  }

  /** The data space of an app: "ns:<data>" when it declares a namespace its publisher holds here, else its id. */
  of(app: string): string {
    if (!this.cache) this.reload()
    return this.cache!.get(app) ?? app
  }

  private declaredBy(data: string, author: string): boolean {
    return this.installed().some((a) => a.author === author && a.data === data)
  }

  private installed(): { id: string; author: string; data?: string }[] {
    return (this.db.query('SELECT app_id, author, manifest FROM apps').all() as { app_id: string; author: string; manifest: string }[]).map((r) => ({
      id: r.app_id,
      author: r.author,
      data: (JSON.parse(r.manifest) as AppManifest).data,
    }))
  }

  private reload(): void {
    const cache = new Map<string, string>()
    for (const a of this.installed()) {
      if (a.data && this.claim(a.data)?.author === a.author) cache.set(a.id, spaceName(a.data))
    }
    this.cache = cache
  }
}
