/**
 * Security events: what happened to an account, recorded as it happens and shown to its owner
 * newest first, a page at a time. Recording is best effort (a failed write is logged): an event
 * never decides the outcome of the request it describes.
 */
import { bestEffort } from '../best-effort'
import { nowSeconds } from '../clock'
import type { NewSecurityEvent, SecurityEventRow, SecurityEventType } from '../ports'
import type { Core } from './core'
import { fromBase64Url, sha256Base64Url, toBase64Url, utf8, utf8Decoder } from './encoding'
import { InvalidCursor } from './errors'

export const EVENTS_PAGE_SIZE = 50

/** What a caller says happened. */
export interface SecurityEventInput {
  type: SecurityEventType
  userId: string
  /** The session it concerns (the one signed in, ended, or replayed), where one applies. */
  sessionId?: string | null
  /** How a login was proved: 'pwd', 'otp', 'hwk', ... */
  method?: string | null
}

/** What the request says about where it came from; each null when unknown. */
export interface RequestOrigin {
  ip: string | null
  userAgent: string | null
  country: string | null
}

/**
 * An account's deletion is kept without anything that points at a person: the user id only as
 * a hash (an operator who holds the id can still find it; no account can ever list it), no
 * address, no user agent, no session. The country stays, as coarse as it is.
 */
const anonymised = async (event: NewSecurityEvent): Promise<NewSecurityEvent> => ({
  ...event,
  user_id: `deleted:${await sha256Base64Url(event.user_id)}`,
  ip: null,
  user_agent: null,
  session_id: null,
})

export const recordSecurityEvent = (
  core: Core,
  input: SecurityEventInput,
  origin: RequestOrigin
): Promise<void> =>
  bestEffort('security event not recorded', async () => {
    const event: NewSecurityEvent = {
      user_id: input.userId,
      type: input.type,
      method: input.method ?? null,
      created_at: nowSeconds(),
      ip: origin.ip,
      user_agent: origin.userAgent,
      country: origin.country,
      session_id: input.sessionId ?? null,
    }
    await core.ports.events.insert(
      event.type === 'account_deleted' ? await anonymised(event) : event
    )
  })

// An event id in base64url: opaque to clients, and short enough to bound before decoding.
const MAX_CURSOR_LENGTH = 24
const EVENT_ID = /^[1-9][0-9]{0,15}$/

const cursorOf = (id: number): string => toBase64Url(utf8.encode(String(id)))

const idOfCursor = (cursor: string): number => {
  const bytes = cursor.length <= MAX_CURSOR_LENGTH ? fromBase64Url(cursor) : null
  const text = bytes ? utf8Decoder.decode(bytes) : ''
  const id = EVENT_ID.test(text) ? Number(text) : NaN
  if (!Number.isSafeInteger(id)) throw new InvalidCursor()
  return id
}

export interface SecurityEventPage {
  events: SecurityEventRow[]
  /** Null on the last page. */
  nextCursor: string | null
}

/** One page of the user's events, newest first; a page one longer than asked says more follow. */
export const listSecurityEvents = async (
  core: Core,
  userId: string,
  cursor: string | undefined
): Promise<SecurityEventPage> => {
  const before = cursor === undefined ? null : idOfCursor(cursor)
  const rows = await core.ports.events.listByUser(userId, before, EVENTS_PAGE_SIZE + 1)
  const events = rows.slice(0, EVENTS_PAGE_SIZE)
  const last = events.at(-1)
  return { events, nextCursor: rows.length > EVENTS_PAGE_SIZE && last ? cursorOf(last.id) : null }
}
