/** The hand-written MIME writer, read back by a real MIME parser (postal-mime). */
import PostalMime from 'postal-mime'
import { describe, expect, it } from 'vitest'
import { composeAccountMessage } from '../src/mail/message'
import { buildMimeMessage, encodeHeaderText, parseMailbox } from '../src/mail/mime'

const FROM = { name: 'Edge Auth', address: 'auth@example.test' }

const sample = (overrides: Partial<{ subject: string; text: string; html: string }> = {}) => ({
  to: 'reader@example.com',
  subject: 'Reset your password',
  text: 'Line one\nLine two',
  html: '<p>Line one</p>',
  ...overrides,
})

describe('buildMimeMessage', () => {
  it('writes multipart/alternative with a text and an HTML part that parse back exactly', async () => {
    const message = composeAccountMessage(
      'password_reset',
      'https://app.example.test',
      'reader@example.com',
      'A'.repeat(43)
    )
    const raw = buildMimeMessage(message, { from: FROM })

    const parsed = await PostalMime.parse(raw)

    expect(parsed.from).toEqual({ name: 'Edge Auth', address: 'auth@example.test' })
    expect(parsed.to).toEqual([{ name: '', address: 'reader@example.com' }])
    expect(parsed.subject).toBe('Reset your password')
    expect(parsed.text?.replace(/\r\n/g, '\n').trim()).toBe(message.text.trim())
    expect(parsed.html?.trim()).toBe(message.html.replace(/\n/g, '\r\n').trim())
    expect(parsed.messageId).toMatch(/^<[0-9a-f]{32}@example\.test>$/)
    expect(parsed.attachments).toEqual([])
    expect(raw).toMatch(/^Content-Type: multipart\/alternative; boundary="=_[0-9a-f]{24}"\r$/m)
    expect(raw).toMatch(/^MIME-Version: 1\.0\r$/m)
  })

  it('ends every line with CRLF and keeps lines within 78 characters', () => {
    const raw = buildMimeMessage(sample({ text: 'x'.repeat(500), subject: 'é'.repeat(80) }), {
      from: FROM,
    })
    expect(raw.endsWith('\r\n')).toBe(true)
    const lines = raw.split('\r\n')
    expect(lines.every((line) => !line.includes('\n') && !line.includes('\r'))).toBe(true)
    expect(Math.max(...lines.map((line) => line.length))).toBeLessThanOrEqual(78)
  })

  it('round-trips non-ASCII text, subject and sender name (RFC 2047, UTF-8 base64 bodies)', async () => {
    const subject = 'Réinitialisez votre mot de passe — 🔑 ' + 'ü'.repeat(60)
    const raw = buildMimeMessage(
      sample({ subject, text: 'Grüße aus Zürich 🌍\n', html: '<p>日本語</p>' }),
      { from: { name: 'Équipe Auth', address: 'auth@example.test' } }
    )

    const parsed = await PostalMime.parse(raw)

    expect(parsed.subject).toBe(subject)
    expect(parsed.from?.name).toBe('Équipe Auth')
    expect(parsed.text).toContain('Grüße aus Zürich 🌍')
    expect(parsed.html).toContain('日本語')
  })

  it('cannot be made to inject a header through the subject or the sender name', async () => {
    const raw = buildMimeMessage(sample({ subject: 'Hi\r\nBcc: victim@example.com' }), {
      from: { name: 'x"\r\nBcc: other@example.com', address: 'auth@example.test' },
    })

    const parsed = await PostalMime.parse(raw)

    expect(parsed.bcc).toBeUndefined()
    expect(parsed.headers.map((header) => header.key)).not.toContain('bcc')
    expect(parsed.subject).toBe('Hi\r\nBcc: victim@example.com')
  })

  it('uses a fresh boundary and Message-ID for every message', () => {
    const first = buildMimeMessage(sample(), { from: FROM })
    const second = buildMimeMessage(sample(), { from: FROM })
    const boundary = (raw: string) => /boundary="([^"]+)"/.exec(raw)?.[1]
    const messageId = (raw: string) => /^Message-ID: (.+)\r$/m.exec(raw)?.[1]
    expect(boundary(first)).not.toBe(boundary(second))
    expect(messageId(first)).not.toBe(messageId(second))
  })
})

describe('encodeHeaderText and parseMailbox', () => {
  it('leaves printable ASCII alone and encodes anything else', () => {
    expect(encodeHeaderText('Reset your password')).toBe('Reset your password')
    expect(encodeHeaderText('Café')).toBe('=?UTF-8?B?Q2Fmw6k=?=')
  })

  it('reads MAIL_FROM as an address or as Name <address>', () => {
    expect(parseMailbox('auth@example.test')).toEqual({ address: 'auth@example.test' })
    expect(parseMailbox('Edge Auth <auth@example.test>')).toEqual(FROM)
    expect(parseMailbox('"Edge Auth" <auth@example.test>')).toEqual(FROM)
  })
})
