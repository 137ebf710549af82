/** What every domain operation runs against: the options, the store ports and the features' hooks. */
import type { AuthOptions } from '../options'
import type { AuthPorts, DeletionStep } from '../ports'
import type { SecondFactorGate, SecondFactorMethod } from './sign-in'

/** What features add to the domain's own steps (registered through createAuth). */
export interface DomainHooks {
  /** Asked after every first factor, in registration order. */
  secondFactorGates: readonly SecondFactorGate[]
  /** The second factors the features offer (/auth/mfa/verify, /auth/reauthenticate). */
  secondFactors: readonly SecondFactorMethod[]
  /** Each returns its part of a user's deletion: steps of the same transaction, and cleanup after. */
  userDeleted: readonly ((userId: string) => UserDeletion)[]
  /**
   * Each returns its part of an address's owner taking the account back (a password reset, or a
   * registration replacing an unverified account): removing what was added before `verifiedAt`.
   */
  accountReclaimed: readonly AccountReclaimed[]
}

/**
 * `verifiedAt`: when the address was first proven, before this reclaim; null when it never was,
 * so that everything added so far was added by whoever registered it.
 */
export type AccountReclaimed = (userId: string, verifiedAt: string | null) => UserDeletion

/** A feature's part of an account change; named for the first use, a deletion. */
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
