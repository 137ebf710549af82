/**
 * The package's entry for a host app (`import { createAuth } from 'edge-jwt-auth'`): the
 * composition root, the gate, the Cloudflare ports and the types a feature or a host builds on.
 */
import type { MiddlewareHandler } from 'hono'
import type { Auth } from './create-auth'
import type { AppEnv } from './env'

export { cloudflarePorts } from './adapters'
export type { CloudflarePortsOptions } from './adapters'
export type { Core, DomainHooks, UserDeletion } from './auth/core'
export { Misconfigured } from './auth/errors'
export type {
  IssuedTokens,
  SecondFactorChallenge,
  SecondFactorGate,
  SignInMeta,
  SignInOutcome,
  VerifiedSignIn,
} from './auth/sign-in'
export { lazySigner } from './auth/signer'
export type { Signer } from './auth/signer'
export { assembleApp, buildServices, createAuth } from './create-auth'
export type { Auth, AuthApp, CreateAuthOptions } from './create-auth'
export type { AppEnv, AuthContext, Variables } from './env'
export { optionsFromEnv } from './env-options'
export type { AuthFeature, FeatureRuntime } from './feature'
export { endpoint } from './http/endpoint'
export { ApiError } from './http/errors'
export type { ErrorBody, ErrorCode, FeatureErrorCodes, FeatureErrors } from './http/errors'
export { signInResponse, tokenResponse } from './http/token-response'
export { DEFAULT_LIMITS, authOptions } from './options'
export type { AuthLimits, AuthOptions, MailOptions } from './options'
export type * from './ports'
export type { AuthServices } from './services'

/** The session gate of one createAuth, for a host app's own routes. */
export const requireAuth = (auth: Auth): MiddlewareHandler<AppEnv> => auth.requireAuth()
