// The shapes every subsystem shares: lifecycle and the components boot hands from one to the next.
import type { Config } from './config/index.ts'
import type { Logger } from './log/index.ts'

/** A part of the kernel with an explicit lifecycle; boot starts them in order and stops them in reverse. */
export interface Subsystem {
  readonly name: string
  start(): void | Promise<void>
  stop(): void | Promise<void>
}

/** What every subsystem may rely on: settled before any subsystem starts. */
export interface BaseComponents {
  readonly dataDir: string
  readonly config: Config
  readonly log: Logger
}
