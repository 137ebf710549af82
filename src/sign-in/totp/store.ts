/** What TOTP keeps, and the guarantee of each operation (the D1 adapter: adapters/). */
export interface TotpCredentialRow {
  user_id: string
  /** AES-GCM box of the secret (secrets.ts). */
  secret_box: string
  created_at: number
  /** Null while the setup is pending. */
  confirmed_at: number | null
  /** The latest time step accepted. */
  last_step: number
}

export interface TotpStore {
  find(userId: string): Promise<TotpCredentialRow | null>
  /** A new pending secret (replacing a pending one); false when TOTP is already confirmed. */
  putPending(userId: string, secretBox: string, now: number): Promise<boolean>
  /**
   * Atomic: confirms the pending setup of `secretBox` with its first step used, sets the recovery
   * codes and the user's `mfa.totp`. Of two racing confirmations one gets true, and only its
   * codes are kept; a setup started again meanwhile is not confirmed.
   */
  confirm(
    userId: string,
    secretBox: string,
    step: number,
    codeHashes: string[],
    now: number
  ): Promise<boolean>
  /** Atomic: true only for the one caller that raises last_step to `step` (each step once). */
  acceptStep(userId: string, step: number): Promise<boolean>
  /** Atomic and single use: true for the one caller that uses this code of this account. */
  useRecoveryCode(userId: string, codeHash: string, now: number): Promise<boolean>
  /** Atomic: the new set replaces the old one; false when TOTP is not confirmed. */
  replaceRecoveryCodes(userId: string, codeHashes: string[]): Promise<boolean>
  /** Atomic: the credential, its recovery codes and `mfa.totp`; false when there was none. */
  remove(userId: string): Promise<boolean>
  /**
   * The same removal as steps of another transaction (an account's deletion; with `before`, in
   * seconds, the owner reclaiming the account: only a setup started before the address was proven).
   */
  removalSteps(userId: string, before?: number | null): unknown[]
}
