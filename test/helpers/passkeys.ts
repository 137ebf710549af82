/**
 * Passkey ceremonies driven by a software authenticator, against the Worker entry with a relying
 * party configured (the test requests' host) or against an app a test assembled itself.
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

/** The same relying party for an app built with createAuth. */
export const PASSKEY_OPTIONS = { rpId: RP_ID, origins: [ORIGIN] }

type Call = (path: string, options?: RequestOptions) => Promise<Response>

/** A request to the worker with passkeys configured. */
export const passkeyApi: Call = (path, options = {}) => callApp(PASSKEY_ENV, path, options)

/** The ceremonies, through `call`. */
export const passkeyCeremonies = (call: Call) => {
  const registrationOptions = async (account: Account): Promise<CreationOptionsJSON> => {
    const res = await call('/auth/passkeys/register/options', {
      method: 'POST',
      token: account.accessToken,
    })
    expect(res.status, await res.clone().text()).toBe(200)
    return res.json()
  }

  const loginOptions = async (): Promise<RequestOptionsJSON> => {
    const res = await call('/auth/passkeys/login/options', { json: {} })
    expect(res.status, await res.clone().text()).toBe(200)
    return res.json()
  }

  /** Options, create(), register: the response of the last step, whatever it is. */
  const addPasskey = async (
    account: Account,
    authenticator: SoftwareAuthenticator,
    tampering?: Tampering,
    name?: string
  ): Promise<Response> => {
    const credential = await authenticator.create(await registrationOptions(account), tampering)
    return call('/auth/passkeys/register', {
      token: account.accessToken,
      json: { credential, name },
    })
  }

  /** Adds a passkey and expects 201; returns the passkey as the API shows it. */
  const addedPasskey = async (
    account: Account,
    authenticator: SoftwareAuthenticator,
    name?: string
  ): Promise<{ id: string; name: string; created_at: string; last_used_at: string | null }> => {
    const res = await addPasskey(account, authenticator, undefined, name)
    expect(res.status, await res.clone().text()).toBe(201)
    return ((await res.json()) as { passkey: never }).passkey
  }

  /** Options, get(), login: the login's response. */
  const passkeyLogin = async (
    authenticator: SoftwareAuthenticator,
    tampering?: Tampering,
    headers?: Record<string, string>
  ): Promise<Response> => {
    const credential = await authenticator.get(await loginOptions(), tampering)
    return call('/auth/passkeys/login', { json: { credential }, headers })
  }

  return { registrationOptions, loginOptions, addPasskey, addedPasskey, passkeyLogin }
}

export const { registrationOptions, loginOptions, addPasskey, addedPasskey, passkeyLogin } =
  passkeyCeremonies(passkeyApi)
