/** Helpers for recovery and verification tests: the outbox transport, its messages and their links. */
import { env } from 'cloudflare:test'
import { expect } from 'vitest'
import { apiWithEnv } from './requests'
import type { RequestOptions } from './requests'

/** A loopback host: the outbox transport runs nowhere else. */
export const APP_URL = 'http://localhost:8787'

/** Local development's mail settings: messages go to the D1 outbox. */
export const OUTBOX_ENV = { MAIL_TRANSPORT: 'outbox', DEV_OUTBOX: 'on', APP_URL }

/** A request with mail configured; it resolves once the work after the response is done too. */
export const mailApi = (
  path: string,
  options: RequestOptions = {},
  overrides: Record<string, unknown> = {}
): Promise<Response> => apiWithEnv({ ...OUTBOX_ENV, ...overrides }, path, options)

export interface StoredMessage {
  to: string
  subject: string
  text: string
  html: string
}

/** The outbox messages to one address, newest first. */
export const messagesTo = async (email: string): Promise<StoredMessage[]> => {
  const rows = await env.DB.prepare(
    `SELECT recipient AS "to", subject, text_body AS text, html_body AS html
       FROM dev_outbox WHERE recipient = ?1 ORDER BY id DESC`
  )
    .bind(email)
    .all<StoredMessage>()
  return rows.results
}

export type LinkKind = 'reset' | 'verify'

/** The token of the `<APP_URL>/#reset=` or `#verify=` link in a message's text. */
export const linkToken = (message: { text: string }, kind: LinkKind): string => {
  const match = new RegExp(`${APP_URL}/#${kind}=([A-Za-z0-9_~-]+)`).exec(message.text)
  expect(match, message.text).not.toBeNull()
  return match?.[1] ?? ''
}

export const forgot = (email: string, overrides?: Record<string, unknown>) =>
  mailApi('/auth/password/forgot', { json: { email } }, overrides)

export const askVerification = (email: string, overrides?: Record<string, unknown>) =>
  mailApi('/auth/email/verification', { json: { email } }, overrides)

/** Asks with `ask`, expects 202 and exactly one new message, and returns its link's token. */
const tokenOfNextMessage = async (
  email: string,
  ask: (email: string) => Promise<Response>,
  kind: LinkKind
): Promise<string> => {
  const before = (await messagesTo(email)).length
  const res = await ask(email)
  expect(res.status, await res.clone().text()).toBe(202)
  const messages = await messagesTo(email)
  expect(messages).toHaveLength(before + 1)
  return linkToken(messages[0], kind)
}

/** Asks for a reset and returns the token of the message it sent. */
export const resetTokenFor = (email: string): Promise<string> =>
  tokenOfNextMessage(email, (to) => forgot(to), 'reset')

/** Asks for a verification link and returns the token of the message it sent. */
export const verificationTokenFor = (email: string): Promise<string> =>
  tokenOfNextMessage(email, (to) => askVerification(to), 'verify')

export const resetPassword = (token: string, newPassword: string) =>
  mailApi('/auth/password/reset', { json: { token, new_password: newPassword } })

export const verifyEmail = (token: string) => mailApi('/auth/email/verify', { json: { token } })
