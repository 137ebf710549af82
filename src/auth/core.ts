/** What every domain operation runs against: the options, the store ports and the features' hooks. */
import type { AuthOptions } from '../options'
import type { AuthPorts, DeletionStep } from '../ports'
import type { SecondFactorGate } from './sign-in'

/** What features add to the domain's own steps (registered through createAuth). */
export interface DomainHooks {
  /** Asked after every first factor, in registration order. */
  secondFactorGates: readonly SecondFactorGate[]
  /** Each returns its part of a user's deletion: steps of the same transaction, and cleanup after. */
  userDeleted: readonly ((userId: string) => UserDeletion)[]
}

export interface UserDeletion {
  /** Adapter steps (for D1: prepared statements) run in the deletion's transaction. */
  steps?: readonly DeletionStep[]
  /** Runs after the deletion committed (KV, an outside service); a failure is only logged. */
  after?: () => Promise<void>
}

export interface Core {
  options: AuthOptions
  ports: AuthPorts
  hooks: DomainHooks
}
