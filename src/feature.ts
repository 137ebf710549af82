/**
 * What a feature (a sign-in method, security events, ...) registers with createAuth, as one
 * object from its own folder: its routes, its error codes and their mapping, its hook after a
 * first factor, and its part of a user's deletion. No feature edits another's files.
 */
import type { HonoBase } from 'hono/hono-base'
import type { Schema } from 'hono/types'
import type { AccountReclaimed, Core, UserDeletion } from './auth/core'
import type { SecondFactorGate } from './auth/sign-in'
import type { AppEnv } from './env'
import type { ApiError, FeatureErrors } from './http/errors'

/** What a feature's setup builds once per createAuth, from the options and the ports. */
export interface FeatureRuntime {
  /** Asked after every first factor (password, passkey without UV): a challenge, or null. */
  secondFactorGate?: SecondFactorGate
  /** The feature's part of deleting a user (statements of the same transaction, cleanup after). */
  onUserDeleted?: (userId: string) => UserDeletion
  /**
   * The feature's part of the address's owner taking the account back (a password reset; a
   * registration replacing an unverified account): remove every credential (second factor,
   * passkey, linked identity) added before `verifiedAt`, or all of them when it is null. Its steps
   * run in the reset's transaction.
   */
  onAccountReclaimed?: AccountReclaimed
  /** Whatever the feature's routes need at request time: `c.var.services.features[id]`. */
  services?: unknown
}

export interface AuthFeature<Options = unknown> {
  /** Unique among the registered features: 'totp', 'passkeys', 'oidc', 'events'. */
  id: string
  /** Sub-apps mounted under `path` (e.g. '/auth/mfa'); their endpoint() declarations document them. */
  routes?: readonly { path: string; routes: HonoBase<AppEnv, Schema, string, string> }[]
  /** The feature's error codes: code -> [status, message]. */
  errors?: FeatureErrors
  /** The feature's domain errors -> the contract's errors; null for one that is not its own. */
  mapError?: (error: Error) => ApiError | null
  /**
   * The feature's settings from the Worker env, for the standalone worker (a host passes them in
   * `featureOptions` instead). Throws Misconfigured naming the setting.
   */
  optionsFromEnv?: (vars: Readonly<Record<string, unknown>>) => Options
  /** Builds the feature's hooks and services. */
  setup?: (core: Core, options: Options) => FeatureRuntime
}
