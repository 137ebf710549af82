/** The package's `edge-jwt-auth/verify`: the access verifier for resource servers. */
export { accessVerifier } from './verifier'
export type {
  AccessTokenService,
  JwksVerifierOptions,
  RouteRequirements,
  ServiceVerifiedVariables,
  ServiceVerifierOptions,
  VerifiedVariables,
} from './verifier'
export type { JwksFetcher, JwksOptions } from './jwks'
export type { AccessClaims } from '../auth/access-claims'
export type { AuthContext } from '../env'
export type { PublicUser } from '../ports'
export type {
  RpcError,
  RpcFailure,
  RpcResult,
  SessionList,
  SessionSummary,
  VerifiedAccess,
} from '../rpc/types'
export type { AuthService } from '../rpc/auth-service'
