/**
 * A small RFC 5322 / MIME writer for the two account messages: multipart/alternative with a
 * text and an HTML part, both UTF-8 in base64, non-ASCII header text as RFC 2047 encoded words,
 * CRLF line ends. Hand-written because the libraries that do this pull in a MIME-type database
 * several times the size of this whole Worker (docs/recovery.md); test/mime.test.ts parses the
 * output with a real MIME parser.
 */
import { isMailSafe } from '../auth/email-address'
import { randomBytes, utf8 } from '../auth/encoding'
import type { MailMessage } from '../ports'

const CRLF = '\r\n'
const BASE64_LINE = 76
/** 36 bytes make a 60-character encoded word: with "Subject: " a line stays within 78. */
const ENCODED_WORD_BYTES = 36
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/

export interface Mailbox {
  name?: string
  address: string
}

const base64 = (bytes: Uint8Array): string => {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}

const hex = (bytes: Uint8Array): string =>
  [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('')

/** Encoded words of at most 36 bytes each, never splitting a character between two words. */
const encodedWords = (text: string): string => {
  const words: string[] = []
  let chunk = ''
  for (const char of text) {
    if (utf8.encode(chunk + char).length > ENCODED_WORD_BYTES) {
      words.push(chunk)
      chunk = ''
    }
    chunk += char
  }
  if (chunk) words.push(chunk)
  return words.map((word) => `=?UTF-8?B?${base64(utf8.encode(word))}?=`).join(`${CRLF} `)
}

/** Header text: printable ASCII as it is, anything else (or a line break) as encoded words. */
export const encodeHeaderText = (text: string): string =>
  PRINTABLE_ASCII.test(text) ? text : encodedWords(text)

const formatMailbox = ({ name, address }: Mailbox): string => {
  if (!name) return address
  if (PRINTABLE_ASCII.test(name)) return `"${name.replace(/["\\]/g, '\\$&')}" <${address}>`
  return `${encodedWords(name)}${CRLF} <${address}>`
}

/** `Name <address>` or a bare address, as MAIL_FROM holds it. */
export const parseMailbox = (value: string): Mailbox => {
  const match = /^\s*(.*?)\s*<([^<>]+)>\s*$/.exec(value)
  if (!match) return { address: value.trim() }
  const name = match[1].replace(/^"(.*)"$/, '$1')
  return name ? { name, address: match[2] } : { address: match[2] }
}

const base64Body = (text: string): string => {
  const encoded = base64(utf8.encode(text.replace(/\r?\n/g, CRLF)))
  const lines: string[] = []
  for (let i = 0; i < encoded.length; i += BASE64_LINE) {
    lines.push(encoded.slice(i, i + BASE64_LINE))
  }
  return lines.join(CRLF)
}

const part = (contentType: string, body: string): string =>
  [
    `Content-Type: ${contentType}; charset=utf-8`,
    'Content-Transfer-Encoding: base64',
    '',
    base64Body(body),
  ].join(CRLF)

export interface MimeOptions {
  from: Mailbox
  date?: Date
}

/** The whole message, headers and body, ready for `EmailMessage` or an SMTP relay. */
export const buildMimeMessage = (message: MailMessage, options: MimeOptions): string => {
  // "=_" cannot occur in base64, so no line of either part can contain the boundary.
  // The routes refuse such an address; this is the last line before it becomes a header.
  if (!isMailSafe(message.to)) throw new Error('the recipient is not a single plain address')
  const boundary = `=_${hex(randomBytes(12))}`
  const domain = options.from.address.split('@')[1] ?? 'localhost'
  const headers = [
    `From: ${formatMailbox(options.from)}`,
    `To: ${message.to}`,
    `Subject: ${encodeHeaderText(message.subject)}`,
    `Date: ${(options.date ?? new Date()).toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${hex(randomBytes(16))}@${domain}>`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
  ]
  return [
    ...headers,
    '',
    `--${boundary}`,
    part('text/plain', message.text),
    `--${boundary}`,
    part('text/html', message.html),
    `--${boundary}--`,
    '',
  ].join(CRLF)
}
