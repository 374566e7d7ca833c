// The version of this build: package version plus, in compiled binaries, the commit and target.
import pkg from '../package.json' with { type: 'json' }

declare const LEITHER_BUILD: { commit: string; target: string; date: string } | undefined

export const VERSION: string = pkg.version

/** Build facts compiled in by builds/build.ts; absent when running from source. */
export const BUILD = typeof LEITHER_BUILD === 'undefined' ? undefined : LEITHER_BUILD

export function versionLine(): string {
  const where = BUILD ? `${BUILD.target}, commit ${BUILD.commit}, built ${BUILD.date}` : 'from source'
  return `leither ${VERSION} (${where}; bun ${Bun.version}, ${process.platform}-${process.arch})`
}
