/** The passkey feature's storage port: its credentials and its single-use challenges. */
import type { DeletionStep, UserRow } from '../../ports'

/** What a challenge was issued for; it answers nothing else. */
export type ChallengePurpose = 'registration' | 'login' | 'mfa'

export interface PasskeyRow {
  id: string
  user_id: string
  /** The credential id, base64url: unique across all accounts. */
  credential_id: string
  /** The public key as a JWK (JSON), ready for Web Crypto. */
  public_key: string
  /** Its COSE algorithm: -8, -7 or -257. */
  algorithm: number
  sign_count: number
  name: string
  created_at: string
  last_used_at: string | null
}

export interface PasskeyStore {
  /** Stores a challenge (its hash) bound to a purpose and subject; prunes expired ones. */
  issueChallenge(challenge: {
    hash: string
    purpose: ChallengePurpose
    subject: string
    expiresAt: number
    now: number
  }): Promise<void>
  /** Atomic and single use: true once for a live challenge of exactly this purpose and subject. */
  redeemChallenge(
    hash: string,
    purpose: ChallengePurpose,
    subject: string,
    now: number
  ): Promise<boolean>
  /** Throws UniqueViolation when the credential id is registered already (to anyone). */
  insert(passkey: PasskeyRow): Promise<void>
  /**
   * A credential's key with its owner, read together (the owner's credential version with it);
   * with `ownerId`, only if the credential is that account's.
   */
  findByCredentialId(
    credentialId: string,
    ownerId: string | null
  ): Promise<{
    passkey: Pick<PasskeyRow, 'id' | 'public_key' | 'algorithm'>
    owner: UserRow
  } | null>
  listByUser(userId: string): Promise<PasskeyRow[]>
  /**
   * Records a use under the counter rule, as one conditional update: lands only while the
   * passkey exists and, when both counters are non-zero, the new one is larger. False otherwise.
   */
  recordUse(id: string, counter: number, nowIso: string): Promise<boolean>
  /** Removes one of the user's passkeys and bumps their credential version; false when not theirs. */
  delete(userId: string, id: string): Promise<boolean>
  /** The feature's part of deleting a user. */
  deletionStep(userId: string): DeletionStep
}
