// App ids: an app is the file MiMei its author made for it. Each app is served on an origin of its
// own (runtime/permissions/origins.ts, re-exported here: origins are what the rights checks see).
import { mimeiId } from '../mimei/index.ts'

export { appHost, appIdFromHost, appIdOfOrigin, appOrigin } from '../permissions/origins.ts'

/** The MiMei ext of app packages: the app id is mimeiId(author, name, APP_EXT, ""). */
export const APP_EXT = 'app'

/** The app id: the id of the author's file MiMei for the app, so only the author's key publishes it. */
export const appId = (author: string, name: string) => mimeiId(author, name, APP_EXT, '')
export const appIdOf = appId

/** True for a well-formed app id (a MiMei id: 27 base64url characters of 20 bytes). */
export const isAppId = (id: unknown): id is string => typeof id === 'string' && /^[A-Za-z0-9_-]{27}$/.test(id)
