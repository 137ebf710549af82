/** Where passkeys may be used: the relying party id and the origins, from the Worker env. */

/** Set by a host in `featureOptions.passkeys`, or read from the env by the Worker entry. */
export interface PasskeyOptions {
  /** WEBAUTHN_RP_ID: a registrable domain, e.g. example.com (default: APP_URL's host). */
  rpId?: string
  /** WEBAUTHN_ORIGINS: where ceremonies may run (default: APP_URL's origin). */
  origins?: readonly string[]
}

const urlOf = (text: string): URL | null => {
  try {
    return new URL(text)
  } catch {
    return null
  }
}

/**
 * Reads WEBAUTHN_RP_ID, WEBAUTHN_ORIGINS (comma-separated) and APP_URL. Unset is not an error:
 * passkeys are off (their routes answer 404) and the rest of the service runs.
 */
export const passkeyOptionsFromEnv = (vars: Readonly<Record<string, unknown>>): PasskeyOptions => {
  const text = (name: string): string => {
    const value = vars[name]
    return typeof value === 'string' ? value : ''
  }
  const app = urlOf(text('APP_URL'))
  const origins = text('WEBAUTHN_ORIGINS')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean)
  return {
    rpId: text('WEBAUTHN_RP_ID') || app?.hostname,
    origins: origins.length ? origins : app ? [app.origin] : undefined,
  }
}
