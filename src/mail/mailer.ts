/**
 * The mailer: one `send` behind MAIL_TRANSPORT. Chosen and checked before a request answers, so
 * that a half-made configuration is a 500 for every caller alike, never a message silently
 * dropped. No MAIL_TRANSPORT at all means mail is off: no mailer, and the caller says so in the log.
 */
import { EmailMessage } from 'cloudflare:email'
import { Misconfigured } from '../auth/errors'
import { isoNow } from '../clock'
import { outboxAllowed } from '../options'
import type { MailOptions } from '../options'
import type { ConfiguredMailer, Mailer, OutboxStore } from '../ports'
import { buildMimeMessage, parseMailbox } from './mime'

/** A provider refused or failed; the status only, as a provider's body may echo the message. */
export class MailDeliveryFailed extends Error {
  constructor(what: string) {
    super(what)
    this.name = 'MailDeliveryFailed'
  }
}

/** How long the HTTP mail API may take; the client has its 202 already, this only bounds waitUntil. */
const MAIL_API_TIMEOUT_MS = 10_000

const cloudflareMailer = (binding: SendEmail, from: string): Mailer => {
  const sender = parseMailbox(from)
  return {
    transport: 'cloudflare',
    async send(message) {
      const raw = buildMimeMessage(message, { from: sender })
      await binding.send(new EmailMessage(sender.address, message.to, raw))
    },
  }
}

/** A Resend-shaped JSON API: POST {from, to, subject, text, html} with a bearer key. */
const httpMailer = (url: string, apiKey: string, from: string): Mailer => ({
  transport: 'http',
  async send(message) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        from,
        to: [message.to],
        subject: message.subject,
        text: message.text,
        html: message.html,
      }),
      signal: AbortSignal.timeout(MAIL_API_TIMEOUT_MS),
    })
    // The body is read and dropped, so that the connection is released.
    await res.body?.cancel()
    if (!res.ok) throw new MailDeliveryFailed(`the mail API answered ${res.status}`)
  },
})

/** MAIL_TRANSPORT=outbox (local development only): messages kept in D1, listed by GET /dev/outbox. */
const outboxMailer = (outbox: OutboxStore): Mailer => ({
  transport: 'outbox',
  async send(message) {
    await outbox.insert({ ...message, created_at: isoNow() })
  },
})

/**
 * The configured mailer, or null when MAIL_TRANSPORT is unset; throws server_misconfigured when a
 * transport is chosen but a setting it needs is missing.
 */
export const createMailer = (mail: MailOptions, outbox: OutboxStore): ConfiguredMailer | null => {
  if (!mail.transport) return null
  if (!mail.appUrl) throw new Misconfigured('APP_URL is not set')
  const { appUrl } = mail
  if (mail.transport === 'outbox') {
    if (!outboxAllowed(mail)) {
      throw new Misconfigured(
        'MAIL_TRANSPORT=outbox is for local development: APP_URL must be loopback'
      )
    }
    return { ...outboxMailer(outbox), appUrl }
  }
  if (!mail.from) {
    throw new Misconfigured(`MAIL_FROM is needed for MAIL_TRANSPORT=${mail.transport}`)
  }
  if (mail.transport === 'http') {
    if (!mail.apiKey) throw new Misconfigured('MAIL_API_KEY is needed for MAIL_TRANSPORT=http')
    return { ...httpMailer(mail.apiUrl, mail.apiKey, mail.from), appUrl }
  }
  if (!mail.sendEmail) {
    throw new Misconfigured('the EMAIL send_email binding is needed for MAIL_TRANSPORT=cloudflare')
  }
  return { ...cloudflareMailer(mail.sendEmail, mail.from), appUrl }
}
