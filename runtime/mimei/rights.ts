// MiMei rights: a bit set per member (a user id, or "" for everyone).
import { PermissionDenied } from '../errors.ts'

/**
 * Bit layout (documented in docs/mimei.md):
 *   1 read     open any version, read data and files
 *   2 write    change `cur`
 *   4 admin    change rights, make and delete versions, references
 *   8 publish  announce the MiMei to the network (MiMeiPublish)
 * The author and the node owner hold every right. The member "" (everyone) may be given read and
 * write only; admin and publish go to named users.
 */
export const Right = { read: 1, write: 2, admin: 4, publish: 8 } as const
export type RightName = keyof typeof Right
export const ALL_RIGHTS = 0xf
export const EVERYONE_MASK = Right.read | Right.write

export function rightNames(bits: number): RightName[] {
  return (Object.keys(Right) as RightName[]).filter((k) => bits & Right[k])
}

export function requireRight(bits: number, need: RightName, who: string, mid: string): void {
  if (bits & Right[need]) return
  throw new PermissionDenied(
    `${who || 'a guest'} lacks the ${need} right on MiMei ${mid}; its author can grant it with MMSetRight(sid, "${mid}", "${who}", ${bits | Right[need]})`,
  )
}
