/**
 * Passkey ceremonies against the Worker entry with a relying party configured (the test
 * requests' host), driven by a software authenticator.
 */
import { env } from 'cloudflare:test'
import { expect } from 'vitest'
import type { Account } from './accounts'
import { ORIGIN, RP_ID } from './authenticator'
import type {
  CreationOptionsJSON,
  RequestOptionsJSON,
  SoftwareAuthenticator,
  Tampering,
} from './authenticator'
import { callApp } from './requests'
import type { RequestOptions } from './requests'

/** One env object for the whole file, so that the worker builds its services once. */
export const PASSKEY_ENV = { ...env, WEBAUTHN_RP_ID: RP_ID, WEBAUTHN_ORIGINS: ORIGIN }

/** A request to the worker with passkeys configured. */
export const passkeyApi = (path: string, options: RequestOptions = {}): Promise<Response> =>
  callApp(PASSKEY_ENV, path, options)

export const registrationOptions = async (account: Account): Promise<CreationOptionsJSON> => {
  const res = await passkeyApi('/auth/passkeys/register/options', {
    method: 'POST',
    token: account.accessToken,
  })
  expect(res.status, await res.clone().text()).toBe(200)
  return res.json()
}

export const loginOptions = async (): Promise<RequestOptionsJSON> => {
  const res = await passkeyApi('/auth/passkeys/login/options', { json: {} })
  expect(res.status, await res.clone().text()).toBe(200)
  return res.json()
}

/** Options, create(), register: the response of the last step, whatever it is. */
export const addPasskey = async (
  account: Account,
  authenticator: SoftwareAuthenticator,
  tampering?: Tampering,
  name?: string
): Promise<Response> => {
  const credential = await authenticator.create(await registrationOptions(account), tampering)
  return passkeyApi('/auth/passkeys/register', {
    token: account.accessToken,
    json: { credential, name },
  })
}

/** Adds a passkey and expects 201; returns the passkey as the API shows it. */
export const addedPasskey = async (
  account: Account,
  authenticator: SoftwareAuthenticator,
  name?: string
): Promise<{ id: string; name: string; created_at: string; last_used_at: string | null }> => {
  const res = await addPasskey(account, authenticator, undefined, name)
  expect(res.status, await res.clone().text()).toBe(201)
  return ((await res.json()) as { passkey: never }).passkey
}

/** Options, get(), login: the login's response. */
export const passkeyLogin = async (
  authenticator: SoftwareAuthenticator,
  tampering?: Tampering,
  headers?: Record<string, string>
): Promise<Response> => {
  const credential = await authenticator.get(await loginOptions(), tampering)
  return passkeyApi('/auth/passkeys/login', { json: { credential }, headers })
}
