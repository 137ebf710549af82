/**
 * The two account messages. They carry the one-time link and the recipient's address and nothing
 * else: no nickname or other text an attacker could have chosen.
 */
import type { MailMessage } from '../ports'

export type AccountLinkPurpose = 'password_reset' | 'email_verification'

interface Wording {
  subject: string
  fragment: string
  intro: string
  action: string
  lifetime: string
  ignore: string
}

const WORDING: Record<AccountLinkPurpose, Wording> = {
  password_reset: {
    subject: 'Reset your password',
    fragment: 'reset',
    intro: 'Someone asked to reset the password of the account {email}.',
    action: 'Choose a new password',
    lifetime: 'The link works once, for 30 minutes.',
    ignore: 'If it was not you, ignore this message: your password stays as it is.',
  },
  email_verification: {
    subject: 'Confirm your email address',
    fragment: 'verify',
    intro: 'Please confirm that {email} is your email address.',
    action: 'Confirm this address',
    lifetime: 'The link works once, for 24 hours.',
    ignore: 'If you did not create an account, ignore this message.',
  },
}

const escapeHtml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (char) =>
      ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] ?? char
  )

/** The link is a fragment (`#reset=…`), so the token never reaches a server log or a Referer. */
const accountLink = (appUrl: string, purpose: AccountLinkPurpose, token: string): string =>
  `${appUrl}/#${WORDING[purpose].fragment}=${token}`

export const composeAccountMessage = (
  purpose: AccountLinkPurpose,
  appUrl: string,
  email: string,
  token: string
): MailMessage => {
  const wording = WORDING[purpose]
  const link = accountLink(appUrl, purpose, token)
  const intro = wording.intro.replace('{email}', email)
  const text = [intro, '', `${wording.action}: ${link}`, '', wording.lifetime, wording.ignore, '']
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif;line-height:1.5">',
    `<p>${escapeHtml(intro)}</p>`,
    `<p><a href="${escapeHtml(link)}">${escapeHtml(wording.action)}</a></p>`,
    `<p>${escapeHtml(wording.lifetime)} ${escapeHtml(wording.ignore)}</p>`,
    '</body></html>',
  ]
  return { to: email, subject: wording.subject, text: text.join('\n'), html: html.join('\n') }
}
