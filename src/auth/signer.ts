/**
 * The signing material of the configured algorithm, validated on first use rather than when the
 * configuration is read, so that routes which never sign (/health, /openapi.json) answer on a
 * deployment without a secret. Paths that sign call `check()` before their first write.
 */
import { Misconfigured } from './errors'
import { KeySetError, isAsymmetricAlgorithm, readKeySet } from './signing-keys'
import type { AsymmetricAlgorithm, KeySet, SigningAlgorithm } from './signing-keys'

const MIN_SECRET_BYTES = 32

export type SigningMaterial =
  { algorithm: 'HS256'; secret: string } | { algorithm: AsymmetricAlgorithm; keySet: KeySet }

export interface Signer {
  readonly algorithm: SigningAlgorithm
  /** The checked material: the HMAC secret (JWT_SECRET) or the private JWK set (JWT_PRIVATE_KEYS). */
  material(): SigningMaterial
  /** Throws Misconfigured unless the material is usable; signing paths call it before any write. */
  check(): void
}

/** The secrets as the deployment holds them; neither is read until something signs or verifies. */
export interface SigningSecrets {
  JWT_SECRET?: string
  JWT_PRIVATE_KEYS?: string
}

const readMaterial = (
  algorithm: SigningAlgorithm,
  activeKid: string | undefined,
  secrets: SigningSecrets
): SigningMaterial => {
  if (isAsymmetricAlgorithm(algorithm)) {
    try {
      return { algorithm, keySet: readKeySet(secrets.JWT_PRIVATE_KEYS, activeKid, algorithm) }
    } catch (error) {
      if (error instanceof KeySetError) {
        throw new Misconfigured(`JWT_PRIVATE_KEYS: ${error.message}`)
      }
      throw error
    }
  }
  const secret = secrets.JWT_SECRET
  if (!secret || new TextEncoder().encode(secret).byteLength < MIN_SECRET_BYTES) {
    throw new Misconfigured(`JWT_SECRET must be at least ${MIN_SECRET_BYTES} bytes`)
  }
  return { algorithm, secret }
}

export const lazySigner = (
  algorithm: SigningAlgorithm,
  activeKid: string | undefined,
  secrets: SigningSecrets
): Signer => {
  // Only a usable result is kept: a broken secret fails the same clean way on every request.
  let material: SigningMaterial | undefined
  const signer: Signer = {
    algorithm,
    material: () => (material ??= readMaterial(algorithm, activeKid, secrets)),
    check: () => {
      signer.material()
    },
  }
  return signer
}
