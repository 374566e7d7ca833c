// The apps subsystem: installs signed packages (from a committed mac file or from the network) as
// versions of the app's file MiMei, records them in `apps`, serves their files, uninstalls them.
import { Conflict, InvalidParams, InvalidSignature, NotFound } from '../errors.ts'
import type { BaseComponents, Subsystem } from '../kernel.ts'
import type { Grant } from '../permissions/index.ts'
import { MiMeiType, type MiMeiStore } from '../mimei/index.ts'
import { CHUNK_SIZE } from '../mimei/blocks.ts'
import { readManifest, readStored } from '../mimei/files/content.ts'
import { normalizePath } from '../mimei/files/path.ts'
import { servable, type Served } from '../mimei/files/serve.ts'
import type { Replication } from '../net/replication.ts'
import type { SyncProgress } from '../net/sync.ts'
import { appIdOf } from './ids.ts'
import { compareVersions, type AppManifest } from './manifest.ts'
import { DEFAULT_PACKAGE_LIMITS, maxTarBytes, readPackage, verifyFiles, type PackageLimits, type VerifiedPackage } from './package.ts'
import { removeMiMei } from './remove.ts'
import { readTree, storeTree } from './tree.ts'
import { DataSpaces } from './spaces.ts'
import { AreaFollows } from './follows.ts'

export interface AppsComponents extends BaseComponents {
  readonly mimei: MiMeiStore
  /** Undefined on an offline node: apps install from local packages only. */
  readonly replication?: Replication
  /** The node's own grant, for the MiMei work installing does on the owner's behalf. */
  readonly system: Grant
}

/** An installed app as the syscalls report it. */
export interface AppInfo {
  id: string
  name: string
  version: string
  author: string
  description: string
  icon: string
  entry: string
  permissions: AppManifest['permissions']
  locales?: AppManifest['locales']
  installedAt: number
  installedBy: string
  /** The app MiMei's version its files are served from, and that version's root CID. */
  ver: number
  cid: string
  size: number
}

interface AppRow {
  app_id: string
  name: string
  version: string
  author: string
  manifest: string
  entry: string
  installed_at: number
  installed_by: string
  mimei_ver: number
  cid: string
  size: number
}

const isMiMeiId = (id: unknown): id is string => typeof id === 'string' && /^[A-Za-z0-9_-]{27}$/.test(id)

function info(r: AppRow): AppInfo {
  const m = JSON.parse(r.manifest) as AppManifest
  const out: AppInfo = {
    id: r.app_id,
    name: r.name,
    version: r.version,
    author: r.author,
    description: m.description,
    icon: m.icon,
    entry: r.entry,
    permissions: m.permissions,
    installedAt: r.installed_at,
    installedBy: r.installed_by,
    ver: r.mimei_ver,
    cid: r.cid,
    size: r.size,
  }
  if (m.locales) out.locales = m.locales
  return out
}

export class Apps implements Subsystem {
  readonly name = 'apps'
  /** What a package may hold; tests lower them. */
  readonly limits: PackageLimits = { ...DEFAULT_PACKAGE_LIMITS }
  private readonly listeners: ((appId: string) => void)[] = []
  private readonly log
  /** Data namespaces held here (manifest `data`); the MiMei store names app data by them. */
  readonly spaces: DataSpaces
  /** Users' follows of other users' areas, which this node then provides. */
  readonly follows: AreaFollows

  constructor(private readonly c: AppsComponents) {
    this.log = c.log.child('apps')
    this.spaces = new DataSpaces(() => c.mimei.db, () => c.config.owner)
    c.mimei.dataSpace = (app) => this.spaces.of(app)
    this.follows = new AreaFollows(c.mimei, c.replication, c.system, this.log)
  }

  start(): void {}
  stop(): void {}

  private get db() {
    return this.c.mimei.db
  }

  private row(appId: string): AppRow | undefined {
    return (this.db.query('SELECT * FROM apps WHERE app_id = ?').get(appId) as AppRow | null) ?? undefined
  }

  list(): AppInfo[] {
    return (this.db.query('SELECT * FROM apps ORDER BY name, app_id').all() as AppRow[]).map(info)
  }

  get(appId: string): AppInfo | undefined {
    const r = this.row(appId)
    return r && info(r)
  }

  /** Calls `listener` with the app id after each uninstall (grants and sessions go with the app). */
  onUninstall(listener: (appId: string) => void): void {
    this.listeners.push(listener)
  }

  /**
   * A file of an installed app, from the version it was installed as: a file, a redirect (a
   * folder asked for without its "/"), or undefined when the app or the path does not exist.
   */
  async file(appId: string, path: string, slash = path === '' || path.endsWith('/')): Promise<Served | undefined> {
    const r = this.row(appId)
    if (!r) return undefined
    const mm = this.c.mimei
    try {
      const m = mm.row(appId)
      const v = mm.versionInfo(appId, r.mimei_ver)
      return await servable({ blocks: mm.blocks, tree: mm.files.tree(m), version: { cid: v.cid, created: v.created } }, normalizePath(path), slash)
    } catch (err) {
      if (err instanceof NotFound || err instanceof InvalidParams) return undefined
      throw err
    }
  }

  // — installing —

  /** Installs the package committed as mac file `cid` (MFTemp2MacFile). Nothing is kept if any check fails. */
  async installMacFile(who: Grant, cid: string): Promise<AppInfo> {
    const { blocks } = this.c.mimei
    const manifest = readManifest(blocks, cid)
    const max = maxTarBytes(this.limits)
    if (manifest.size > max) throw new InvalidParams(`bad package: ${manifest.size} bytes, more than a package may have (${max})`)
    // One chunk in memory at a time until the reader takes it (it keeps what the limits allow).
    function* chunks() {
      for (let at = 0; at < manifest.size; at += CHUNK_SIZE) yield readStored(blocks, manifest, at, at + CHUNK_SIZE)
    }
    const pkg = await readPackage(chunks(), this.limits)
    return this.installVerified(who, pkg)
  }

  /** Installs a package from its tar bytes (the same checks as a mac file). */
  async installTar(who: Grant, tar: Uint8Array): Promise<AppInfo> {
    const max = maxTarBytes(this.limits)
    if (tar.length > max) throw new InvalidParams(`bad package: ${tar.length} bytes, more than a package may have (${max})`)
    return this.installVerified(who, await readPackage([tar], this.limits))
  }

  /**
   * The update rules: a lower version is refused, and the same version unless its files are the
   * same (then nothing changes); a name already installed from another author is refused.
   */
  private checkUpdate(pkg: VerifiedPackage, cid: string): AppRow | undefined {
    const { name } = pkg.manifest
    const other = this.db.query('SELECT author FROM apps WHERE name = ? AND app_id != ?').get(name, pkg.appId) as { author: string } | null
    if (other) {
      throw new Conflict(`an app named "${name}" by another author (${other.author}) is installed here; this package is signed by ${pkg.signature.author}. Uninstall the other first to replace it`)
    }
    this.spaces.check(pkg.manifest, pkg.signature.author)
    const old = this.row(pkg.appId)
    if (!old) return undefined
    const order = compareVersions(pkg.manifest.version, old.version)
    if (order < 0) throw new Conflict(`${name} ${old.version} is installed; ${pkg.manifest.version} is older and is not installed over it`)
    if (order === 0 && cid !== old.cid) throw new Conflict(`${name} ${old.version} is installed with other files; a changed package needs a higher version`)
    return order === 0 ? old : undefined
  }

  private async installVerified(who: Grant, pkg: VerifiedPackage): Promise<AppInfo> {
    const mm = this.c.mimei
    const same = this.checkUpdate(pkg, (await storeTree(undefined, pkg.files)).cid)
    if (same) return info(same)
    const tree = await storeTree(mm.blocks, pkg.files)
    // Checked again after the slices above: another install may have run meanwhile.
    if (this.checkUpdate(pkg, tree.cid)) return info(this.row(pkg.appId)!)
    const { author } = pkg.signature
    this.db.transaction(() => {
      const existing = this.db.query('SELECT next_ver, seq FROM mimei WHERE mid = ?').get(pkg.appId) as { next_ver: number; seq: number } | null
      const ver = existing?.next_ver ?? 1
      const now = Math.floor(Date.now() / 1000)
      const record = { mid: pkg.appId, author, app: pkg.manifest.name, ext: 'app', mark: '', type: MiMeiType.file, ver, cid: tree.cid, seq: (existing?.seq ?? 0) + 1, size: tree.size, created: now }
      // Like a replica: the MiMei is the author's, its bytes are charged to whoever installs it.
      mm.installVersionNow(record, tree.blocks, false, who.userId || this.c.config.owner)
      this.record(pkg, who.userId, ver, tree.cid)
    })()
    this.log.info('installed', { app: pkg.appId, name: pkg.manifest.name, version: pkg.manifest.version, author })
    return info(this.row(pkg.appId)!)
  }

  private record(pkg: VerifiedPackage, installer: string, ver: number, cid: string): void {
    this.db
      .query(
        `INSERT INTO apps (app_id, name, version, author, manifest, entry, installed_at, installed_by, mimei_ver, cid, size)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (app_id) DO UPDATE SET name = excluded.name, version = excluded.version,
         manifest = excluded.manifest, entry = excluded.entry, installed_at = excluded.installed_at, installed_by = excluded.installed_by,
         mimei_ver = excluded.mimei_ver, cid = excluded.cid, size = excluded.size`,
      )
      .run(pkg.appId, pkg.manifest.name, pkg.manifest.version, pkg.signature.author, JSON.stringify(pkg.manifest), pkg.manifest.entry, Math.floor(Date.now() / 1000), installer, ver, cid, pkg.size)
    this.spaces.take(pkg.manifest, pkg.signature.author, pkg.appId)
  }

  /** Progress of fetching an app from the network (the sync of its MiMei), if one ran. */
  progress(appId: string): SyncProgress | undefined {
    return this.c.replication?.status(appId)
  }

  /**
   * Installs an app by id from the nodes that provide it: its MiMei's newest version is synced
   * (signed record, hash-checked blocks), then its package signature and manifest are checked
   * and the update rules applied. On any failure the sync is undone.
   */
  async installFromNetwork(who: Grant, appId: string): Promise<AppInfo> {
    const repl = this.c.replication
    if (!repl) throw new InvalidParams('this node runs offline (p2p: false); install from a package file instead')
    if (!isMiMeiId(appId)) throw new InvalidParams(`"${String(appId).slice(0, 40)}" is not an app id (27 base64url characters)`)
    const mm = this.c.mimei
    const before = this.db.query('SELECT last FROM mimei WHERE mid = ?').get(appId) as { last: number | null } | null
    await repl.startSync(appId, { depth: 0, startedBy: { userId: who.userId, kind: who.kind } }).done
    try {
      const m = mm.row(appId)
      if (m.type !== MiMeiType.file || m.ext !== 'app' || m.mark !== '' || appIdOf(m.author, m.app) !== appId) {
        throw new InvalidParams(`MiMei ${appId} is not an app package (it is ${m.app}/${m.ext})`)
      }
      const v = mm.versionInfo(appId, m.last!)
      const { files, dirs } = await readTree(mm.blocks, v.cid, this.limits)
      const pkg = verifyFiles(files, dirs)
      if (pkg.appId !== appId) throw new InvalidSignature(`the package in MiMei ${appId} is signed by ${pkg.signature.author} as "${pkg.manifest.name}", which is another app`)
      const same = this.checkUpdate(pkg, v.cid)
      if (same) return info(same)
      this.record(pkg, who.userId, m.last!, v.cid)
      this.log.info('installed from the network', { app: appId, name: pkg.manifest.name, version: pkg.manifest.version, ver: m.last })
      return info(this.row(appId)!)
    } catch (err) {
      this.undoSync(appId, before?.last ?? undefined, before !== null)
      throw err
    }
  }

  /** Puts the app MiMei back as it was before a sync whose package was refused. */
  private undoSync(appId: string, last: number | undefined, existed: boolean): void {
    const mm = this.c.mimei
    if (!existed) {
      removeMiMei(mm, appId, 'the app package was refused')
      return
    }
    const newer = (this.db.query('SELECT ver FROM mimei_versions v JOIN mimei m ON m.id = v.m WHERE m.mid = ? AND v.ver > ?').all(appId, last ?? 0) as { ver: number }[]).map((r) => r.ver)
    if (newer.length) mm.delVersions(this.c.system, appId, newer)
    this.db.query('DELETE FROM net_records WHERE mid = ? AND ver > ?').run(appId, last ?? 0)
    if (last !== undefined) mm.restoreNow(this.c.system, appId, last)
  }

  // — uninstalling —

  /**
   * Removes an installed app: its row, its package MiMei (no longer published or provided here),
   * and unless `keepData`, every data area MMOpenAppData made for it. Blocks go at the next gc.
   */
  async uninstall(appId: string, keepData: boolean): Promise<{ id: string; name: string; dataAreas: number; dataKept: boolean }> {
    const r = this.row(appId)
    if (!r) throw new NotFound(`no app ${String(appId).slice(0, 40)} is installed here (see AppList)`)
    if (this.c.replication) await this.c.replication.unpublish(this.c.system, appId).catch(() => false)
    const because = `app ${r.name} was uninstalled`
    removeMiMei(this.c.mimei, appId, because)
    const areas = this.db.query("SELECT mid FROM mimei WHERE app = ? AND ext = 'appdata'").all(appId) as { mid: string }[]
    if (!keepData) for (const { mid } of areas) removeMiMei(this.c.mimei, mid, because)
    this.db.query('DELETE FROM apps WHERE app_id = ?').run(appId)
    // A namespace no installed app of its holder declares any more is free; its areas go with the data.
    for (const space of this.spaces.release(keepData, r.author)) {
      const shared = this.db.query("SELECT mid FROM mimei WHERE app = ? AND ext = 'appdata'").all(space) as { mid: string }[]
      if (!keepData) for (const { mid } of shared) removeMiMei(this.c.mimei, mid, because)
      areas.push(...shared)
    }
    for (const listener of this.listeners) listener(appId)
    this.log.info('uninstalled', { app: appId, name: r.name, dataKept: keepData })
    return { id: appId, name: r.name, dataAreas: areas.length, dataKept: keepData }
  }
}

export function apps() {
  return (components: AppsComponents): Apps => new Apps(components)
}
