/** Helpers for cookie-mode tests: a tiny cookie jar and Set-Cookie parsing, as a browser would do. */
import { expect } from 'vitest'
import { PASSWORD, uniqueEmail } from './accounts'
import { BASE_URL, api } from './requests'
import type { RequestOptions } from './requests'

export const ACCESS_COOKIE = '__Host-access_token'
export const REFRESH_COOKIE = '__Host-refresh_token'
export const DEVICE_COOKIE = '__Host-device'
export const SAME_ORIGIN = new URL(BASE_URL).origin

export interface SetCookie {
  name: string
  value: string
  attributes: Record<string, string>
}

/** Attribute names are lower-cased; flags such as HttpOnly map to ''. */
export const parseSetCookie = (header: string): SetCookie => {
  const [pair, ...rest] = header.split(';').map((part) => part.trim())
  const separator = pair.indexOf('=')
  const attributes: Record<string, string> = {}
  for (const part of rest) {
    const at = part.indexOf('=')
    if (at === -1) attributes[part.toLowerCase()] = ''
    else attributes[part.slice(0, at).toLowerCase()] = part.slice(at + 1)
  }
  return { name: pair.slice(0, separator), value: pair.slice(separator + 1), attributes }
}

export const setCookies = (res: Response): Map<string, SetCookie> =>
  new Map(
    res.headers.getSetCookie().map((header) => {
      const cookie = parseSetCookie(header)
      return [cookie.name, cookie] as const
    })
  )

/** Holds cookies between requests the way a browser would: Max-Age=0 removes one. */
export class CookieJar {
  readonly cookies = new Map<string, string>()

  absorb(res: Response): this {
    for (const cookie of setCookies(res).values()) {
      if (cookie.attributes['max-age'] === '0') this.cookies.delete(cookie.name)
      else this.cookies.set(cookie.name, cookie.value)
    }
    return this
  }

  get header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }

  get access(): string | undefined {
    return this.cookies.get(ACCESS_COOKIE)
  }

  get refresh(): string | undefined {
    return this.cookies.get(REFRESH_COOKIE)
  }

  get device(): string | undefined {
    return this.cookies.get(DEVICE_COOKIE)
  }

  clone(): CookieJar {
    const copy = new CookieJar()
    for (const [name, value] of this.cookies) copy.cookies.set(name, value)
    return copy
  }
}

/** A request as the demo page sends it: cookies, same Origin, no Authorization header. */
export const browserApi = (
  jar: CookieJar,
  path: string,
  options: RequestOptions = {}
): Promise<Response> => {
  const headers: Record<string, string> = { Origin: SAME_ORIGIN, ...options.headers }
  if (jar.cookies.size > 0) headers.Cookie = jar.header
  return api(path, { ...options, headers })
}

export const COOKIE_MODE = { 'X-Auth-Mode': 'cookie' }

/** Both token cookies are gone; the device cookie, which names the device and no session, stays. */
export const expectTokenCookiesCleared = (jar: CookieJar): void => {
  expect([...jar.cookies.keys()].filter((name) => name !== DEVICE_COOKIE)).toEqual([])
}

/** Registers in cookie mode and returns the jar the response filled. */
export const registerInCookieMode = async (): Promise<{
  jar: CookieJar
  email: string
  body: Record<string, unknown>
}> => {
  const email = uniqueEmail()
  const jar = new CookieJar()
  const res = await browserApi(jar, '/auth/register', {
    json: { email, password: PASSWORD },
    headers: COOKIE_MODE,
  })
  expect(res.status, await res.clone().text()).toBe(201)
  jar.absorb(res)
  return { jar, email, body: await res.json() }
}
