/**
 * The provider's HTTP, for every kind: one request with a timeout, no redirect followed, and its
 * answer read as JSON within a size limit. Any failure is `provider_error`.
 */
import type { ProviderConfig } from './config'
import { SignInFailed } from './errors'
import type { IdTokenClaims } from './id-token'

const MAX_RESPONSE_BYTES = 64 * 1024
const TIMEOUT_MS = 5_000

export const failed = (cause?: unknown) => new SignInFailed('provider_error', { cause })

/** The body as JSON, read chunk by chunk and given up past the limit. */
const readJson = async (res: Response): Promise<unknown> => {
  const reader: ReadableStreamDefaultReader<Uint8Array> | undefined = res.body?.getReader()
  // Its own decoder: a streaming one keeps state between chunks.
  const decoder = new TextDecoder()
  let text = ''
  let bytes = 0
  for (let chunk = await reader?.read(); chunk && !chunk.done; chunk = await reader?.read()) {
    bytes += chunk.value.byteLength
    text += decoder.decode(chunk.value, { stream: true })
    if (bytes > MAX_RESPONSE_BYTES) {
      await reader?.cancel()
      throw failed()
    }
  }
  try {
    return JSON.parse(text + decoder.decode()) as unknown
  } catch (cause) {
    throw failed(cause)
  }
}

export const call = async (url: string, init: RequestInit = {}): Promise<unknown> => {
  let res: Response
  try {
    res = await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) })
  } catch (cause) {
    throw failed(cause)
  }
  const body = await readJson(res)
  if (!res.ok) throw failed()
  return body
}

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** The form of a code's redemption (RFC 6749 §4.1.3, with RFC 7636's verifier). */
export const codeForm = (code: string, verifier: string, redirectUri: string) =>
  new URLSearchParams({
    grant_type: 'authorization_code',
    code,
    redirect_uri: redirectUri,
    code_verifier: verifier,
  })

/**
 * One configured provider, whatever its kind: where the browser is sent (and whether that request
 * carries a nonce for an ID token), and who signed in once the callback's code is redeemed (the
 * ID token's claims, or GitHub's answers in the same shape).
 */
export interface ProviderClient {
  config: ProviderConfig
  authorization(): Promise<{ endpoint: string; nonce: boolean }>
  identify(
    code: string,
    verifier: string,
    redirectUri: string,
    nonce: string
  ): Promise<IdTokenClaims>
}
