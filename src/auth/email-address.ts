/**
 * Which addresses mail may go to. An address is written into the `To:` header as it is, so a
 * character that is special in RFC 5322 (a comma or semicolon: a second recipient; `<`, `>`, a
 * quote, brackets, a colon, a backslash: another mailbox or a header) or any whitespace or
 * control character (a new header line) is refused wherever an address is accepted.
 */
const MAIL_UNSAFE = /[\s\x00-\x1f\x7f()<>[\]:;\\,"]/

/** One pass of one character class: linear in the address's length. */
export const isMailSafe = (email: string): boolean => !MAIL_UNSAFE.test(email)
