// The app family: install signed app packages (from a committed mac file or from the network),
// uninstall them, list them. What runs on the node is the owner's decision: installing is node.admin.
import { InvalidParams } from '../runtime/errors.ts'
import type { AppInfo } from '../runtime/apps/index.ts'
import { appOrigin } from '../runtime/apps/ids.ts'
import { syscall, type CallContext, type SyscallRow } from './row.ts'

const APPID = { name: 'appid', type: 'string', doc: 'app id (the id of the app\u2019s package MiMei, from AppList or the author)' } as const
const INFO = '{id, name, version, author, description, icon, entry, permissions: [{name, reason}], locales?, installedAt, installedBy, ver, cid, size, url}'

/** The app's info with the address it is served at on this node. */
const withUrl = (ctx: CallContext, app: AppInfo) => ({ ...app, url: `${appOrigin(app.id, Number(ctx.sys.publicVars().port?.() ?? ctx.sys.config.port))}/` })

export const APP_SYSCALLS: SyscallRow[] = [
  syscall<[string, string]>({
    name: 'UploadApp',
    sid: true,
    params: [
      { name: 'fileid', type: 'string', doc: 'CID of the package committed with MFTemp2MacFile (made by leither app pack)' },
      { name: 'tp', type: 'string', doc: 'package format: "tar"' },
    ],
    returns: INFO,
    returnsType: 'AppInfo',
    capability: 'node.admin',
    errors: ['InvalidParams', 'InvalidSignature', 'NotFound', 'Conflict', 'QuotaExceeded', 'DiskFull', 'PermissionDenied'],
    doc: 'Installs (or updates) an app from a signed package. Checked before anything is kept: the author\u2019s signature, every file\u2019s hash, the manifest, paths (no "..", absolute paths, links or devices), at most 2,000 files, 16 MiB per file and 64 MiB in all. An update must come from the same author with a higher version. Nothing is granted: the app asks for `permissions`, granted with AppGrant.',
    async handler(ctx, fileid, tp) {
      if (tp !== 'tar') throw new InvalidParams(`package format "${String(tp).slice(0, 20)}" is not supported; packages are tars made by leither app pack (tp "tar")`)
      return withUrl(ctx, await ctx.sys.apps.installMacFile(ctx.grant, fileid))
    },
  }),
  syscall<[string]>({
    name: 'InstallApp',
    sid: true,
    params: [APPID],
    returns: INFO,
    returnsType: 'AppInfo',
    capability: 'node.admin',
    errors: ['InvalidParams', 'InvalidSignature', 'NotFound', 'Conflict', 'Timeout', 'QuotaExceeded', 'PermissionDenied'],
    doc: 'Installs (or updates) an app from the nodes that provide it: its package MiMei is synced (progress: MiMeiSyncStatus with the app id), then checked as UploadApp checks a package; if it fails, the sync is undone.',
    handler: async (ctx, appid) => withUrl(ctx, await ctx.sys.apps.installFromNetwork(ctx.grant, appid)),
  }),
  syscall<[string, boolean | undefined]>({
    name: 'UninstallApp',
    sid: true,
    params: [APPID, { name: 'keepData', type: 'bool', optional: true, doc: 'keep the app\u2019s data areas (MMOpenAppData) for a later install (default false: delete them)' }],
    returns: '{id, name, dataAreas, dataKept}',
    returnsType: '{ id: string; name: string; dataAreas: number; dataKept: boolean }',
    capability: 'node.admin',
    errors: ['NotFound', 'PermissionDenied'],
    doc: 'Removes an installed app: its package and, unless keepData, the data it kept on this node. Its sessions and grants end with it.',
    handler: (ctx, appid, keepData) => ctx.sys.apps.uninstall(appid, keepData === true),
  }),
  syscall<[]>({
    name: 'AppList',
    sid: true,
    params: [],
    returns: `list of ${INFO}`,
    returnsType: 'AppInfo[]',
    capability: 'session',
    errors: ['PermissionDenied'],
    doc: 'The apps installed on this node, by name (GetVar appinfos gives the same).',
    handler: (ctx) => ctx.sys.apps.list().map((a) => withUrl(ctx, a)),
  }),
]
