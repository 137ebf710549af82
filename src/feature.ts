/**
 * What a feature (a sign-in method, security events, ...) registers with createAuth, as one
 * object from its own folder: its routes, its error codes and their mapping, its hook after a
 * first factor, and its part of a user's deletion. No feature edits another's files.
 */
import type { Hono } from 'hono'
import type { HonoBase } from 'hono/hono-base'
import type { MergeSchemaPath, Schema } from 'hono/types'
import type { AccountReclaimed, Core, UserDeletion } from './auth/core'
import type { SecondFactorGate, SecondFactorMethod } from './auth/sign-in'
import type { AppEnv } from './env'
import type { ApiError, FeatureErrors } from './http/errors'

/** What a feature's setup builds once per createAuth, from the options and the ports. */
export interface FeatureRuntime {
  /** Asked after every first factor (password, passkey without UV): a challenge, or null. */
  secondFactorGate?: SecondFactorGate
  /** A second factor: its `method` values on /auth/mfa/verify and /auth/reauthenticate. */
  secondFactor?: SecondFactorMethod
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

type SubApp = HonoBase<AppEnv, Schema, string, string>

/** A sub-app and where it is mounted, with the path kept as a literal for the typed client. */
export interface Mount<P extends string = string, R extends SubApp = SubApp> {
  path: P
  routes: R
}

export const mount = <const P extends string, R extends SubApp>(
  path: P,
  routes: R
): Mount<P, R> => ({
  path,
  routes,
})

export interface AuthFeature<Options = unknown> {
  /** Unique among the registered features: 'totp', 'passkeys', 'oidc', 'events'. */
  id: string
  /**
   * Sub-apps mounted under `path` (e.g. '/auth/mfa'). The OpenAPI document reads their endpoint()
   * declarations and the feature's docs (a `PartDocs` exported beside it, src/http/endpoint.ts).
   */
  routes?: readonly Mount[]
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

type MountedSchema<M> =
  M extends Mount<infer P, infer R>
    ? R extends HonoBase<AppEnv, infer S, string, string>
      ? MergeSchemaPath<S, P>
      : never
    : never

/**
 * The app's type with the features' routes in it, for the typed client (src/client.ts): the
 * features are mounted in a loop, which the app's own inferred type cannot follow.
 */
export type WithFeatureRoutes<App, Features extends readonly AuthFeature[]> =
  App extends Hono<infer E, infer S, infer B>
    ? Hono<E, S | MountedSchema<NonNullable<Features[number]['routes']>[number]>, B>
    : never
