// The demo page: plain JavaScript over the API in cookie mode. The page never sees a token; the
// browser sends the HttpOnly cookies and the worker renews them in passing (implicit refresh).

const $ = (selector) => document.querySelector(selector)

/** What a person should read for each error code of the API. */
const MESSAGES = {
  invalid_credentials: 'The email or password is wrong.',
  email_taken: 'An account with this email already exists. Sign in instead.',
  too_many_requests: 'Too many failed sign-ins for this email.',
  missing_token: 'Please sign in.',
  token_expired: 'Your session has expired. Please sign in again.',
  token_revoked: 'This device was signed out. Please sign in again.',
  invalid_token: 'Your sign-in is no longer valid. Please sign in again.',
  invalid_refresh_token: 'Your session has ended. Please sign in again.',
  forbidden: 'The server refused this request.',
  not_found: 'That item no longer exists.',
  payload_too_large: 'That is too much text for one request.',
  service_unavailable: 'The service is briefly unavailable. Try again in a moment.',
  server_misconfigured: 'The server is not configured correctly.',
  internal_error: 'Something went wrong on the server.',
  invalid_one_time_token: 'This link is invalid, used or expired. Ask for a new one.',
  invalid_mfa_code: 'That code is wrong or was already used.',
  invalid_mfa_token: 'This sign-in took too long or had too many wrong codes. Sign in again.',
  mfa_already_enabled: 'Two-step sign-in is already on.',
  // #login_error=<code> after a provider's sign-in.
  invalid_state: 'That sign-in took too long or was started elsewhere. Try again.',
  provider_error: 'The identity provider did not sign you in.',
  invalid_id_token: 'The identity provider answered something we cannot trust.',
  account_exists:
    'An account with this email exists. Sign in to it, then link the provider from there.',
  email_not_verified:
    'Please verify your email address first: open the link we mailed you when you signed up.',
  invalid_passkey: 'That passkey could not be verified.',
  reauthentication_required: 'For this, sign in again first (your sign-in is over 10 minutes old).',
}

const SIGNED_OUT_CODES = new Set([
  'missing_token',
  'token_expired',
  'token_revoked',
  'invalid_token',
])

class ApiFailure extends Error {
  constructor(status, body, retryAfter) {
    super(body?.message ?? `HTTP ${status}`)
    this.status = status
    this.code = body?.error ?? 'unknown'
    this.details = body?.details
    this.retryAfter = retryAfter
  }
}

/** One call to the API. `X-Auth-Mode: cookie` asks register, login and refresh for cookies. */
const api = async (path, { method = 'GET', json } = {}) => {
  const headers = { 'X-Auth-Mode': 'cookie', Accept: 'application/json' }
  if (json !== undefined) headers['Content-Type'] = 'application/json'
  let res
  try {
    res = await fetch(path, {
      method,
      headers,
      body: json === undefined ? undefined : JSON.stringify(json),
      credentials: 'same-origin',
    })
  } catch {
    throw new ApiFailure(0, { error: 'network', message: 'Cannot reach the server.' })
  }
  if (res.status === 204) return null
  const body = await res.json().catch(() => null)
  if (!res.ok) throw new ApiFailure(res.status, body, res.headers.get('Retry-After'))
  return body
}

const describe = (failure) => {
  if (failure.code === 'validation_failed' && failure.details) {
    return Object.values(failure.details).join('. ') + '.'
  }
  if (failure.code === 'too_many_requests' && failure.retryAfter) {
    const minutes = Math.max(1, Math.ceil(Number(failure.retryAfter) / 60))
    return `${MESSAGES.too_many_requests} Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`
  }
  return MESSAGES[failure.code] ?? failure.message
}

const say = (text, kind = 'error') => {
  const box = $('#message')
  box.textContent = text
  box.className = kind
  box.hidden = !text
}

/** Runs an action; an error becomes a message, and a dead session returns to the sign-in form. */
const attempt = async (action) => {
  try {
    await action()
  } catch (error) {
    if (!(error instanceof ApiFailure)) throw error
    say(describe(error))
    if (SIGNED_OUT_CODES.has(error.code)) showSignedOut()
  }
}

const formData = (form) => Object.fromEntries(new FormData(form).entries())

// --- QR code ------------------------------------------------------------------------------
// A small QR encoder (ISO/IEC 18004) for the otpauth URI: byte mode, error correction level L,
// versions 1 to 9 (up to 230 bytes), mask 0, drawn as SVG. No library: the page stays one file.

/** Per version 1..9 at level L: [data codewords, EC codewords per block, blocks]. */
const QR_VERSIONS = [
  [19, 7, 1], [34, 10, 1], [55, 15, 1], [80, 20, 1], [108, 26, 1],
  [136, 18, 2], [156, 20, 2], [194, 24, 2], [232, 30, 2],
]
const QR_ALIGNMENT = [[], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34], [6, 22, 38], [6, 24, 42], [6, 26, 46]]

const gfMultiply = (x, y) => {
  let z = 0
  for (let i = 7; i >= 0; i--) {
    z = (z << 1) ^ ((z >>> 7) * 0x11d)
    z ^= ((y >>> i) & 1) * x
  }
  return z
}

/** Reed-Solomon: the remainder of data × x^degree by the generator polynomial of that degree. */
const reedSolomon = (data, degree) => {
  const divisor = new Array(degree).fill(0)
  divisor[degree - 1] = 1
  let root = 1
  for (let i = 0; i < degree; i++) {
    for (let j = 0; j < degree; j++) {
      divisor[j] = gfMultiply(divisor[j], root)
      if (j + 1 < degree) divisor[j] ^= divisor[j + 1]
    }
    root = gfMultiply(root, 2)
  }
  const remainder = new Array(degree).fill(0)
  for (const byte of data) {
    const factor = byte ^ remainder.shift()
    remainder.push(0)
    divisor.forEach((coefficient, i) => (remainder[i] ^= gfMultiply(coefficient, factor)))
  }
  return remainder
}

/** The modules of a QR code for `text`, as rows of booleans (true = dark). */
const qrModules = (text) => {
  const bytes = new TextEncoder().encode(text)
  const version = QR_VERSIONS.findIndex(([data]) => data - 2 >= bytes.length) + 1
  if (version === 0) throw new Error('too long for a QR code of this page')
  const [dataLength, ecLength, blocks] = QR_VERSIONS[version - 1]
  // Mode 0100 (bytes), an 8-bit count, the bytes, a terminator, then the pad bytes.
  const bits = []
  const put = (value, length) => {
    for (let i = length - 1; i >= 0; i--) bits.push((value >>> i) & 1)
  }
  put(4, 4)
  put(bytes.length, 8)
  bytes.forEach((byte) => put(byte, 8))
  put(0, Math.min(4, dataLength * 8 - bits.length))
  put(0, (8 - (bits.length % 8)) % 8)
  const data = []
  for (let i = 0; i < bits.length; i += 8) data.push(parseInt(bits.slice(i, i + 8).join(''), 2))
  for (let pad = 0xec; data.length < dataLength; pad ^= 0xec ^ 0x11) data.push(pad)
  // Equal blocks at these versions; codewords are interleaved across them.
  const blockLength = dataLength / blocks
  const dataBlocks = Array.from({ length: blocks }, (_, b) =>
    data.slice(b * blockLength, (b + 1) * blockLength)
  )
  const ecBlocks = dataBlocks.map((block) => reedSolomon(block, ecLength))
  const codewords = []
  for (let i = 0; i < blockLength; i++) dataBlocks.forEach((block) => codewords.push(block[i]))
  for (let i = 0; i < ecLength; i++) ecBlocks.forEach((block) => codewords.push(block[i]))

  const size = 17 + 4 * version
  const dark = Array.from({ length: size }, () => new Array(size).fill(false))
  const reserved = Array.from({ length: size }, () => new Array(size).fill(false))
  const set = (x, y, on) => {
    dark[y][x] = on
    reserved[y][x] = true
  }
  for (let i = 0; i < size; i++) {
    set(6, i, i % 2 === 0)
    set(i, 6, i % 2 === 0)
  }
  for (const [cx, cy] of [[3, 3], [size - 4, 3], [3, size - 4]]) {
    for (let dy = -4; dy <= 4; dy++) {
      for (let dx = -4; dx <= 4; dx++) {
        const x = cx + dx
        const y = cy + dy
        const ring = Math.max(Math.abs(dx), Math.abs(dy))
        if (x >= 0 && x < size && y >= 0 && y < size) set(x, y, ring !== 2 && ring !== 4)
      }
    }
  }
  const centers = QR_ALIGNMENT[version - 1]
  for (const cx of centers) {
    for (const cy of centers) {
      const onFinder = (cx === 6 && cy === 6) || (cx === 6 && cy === size - 7) || (cx === size - 7 && cy === 6)
      if (onFinder) continue
      for (let dy = -2; dy <= 2; dy++) {
        for (let dx = -2; dx <= 2; dx++) set(cx + dx, cy + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1)
      }
    }
  }
  // Format information: level L (01) and mask 0, BCH-protected and masked with 0x5412.
  let rem = 0b01000
  for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537)
  const format = ((0b01000 << 10) | rem) ^ 0x5412
  const bit = (value, i) => ((value >>> i) & 1) === 1
  for (let i = 0; i <= 5; i++) set(8, i, bit(format, i))
  set(8, 7, bit(format, 6))
  set(8, 8, bit(format, 7))
  set(7, 8, bit(format, 8))
  for (let i = 9; i < 15; i++) set(14 - i, 8, bit(format, i))
  for (let i = 0; i < 8; i++) set(size - 1 - i, 8, bit(format, i))
  for (let i = 8; i < 15; i++) set(8, size - 15 + i, bit(format, i))
  set(8, size - 8, true)
  if (version >= 7) {
    let vrem = version
    for (let i = 0; i < 12; i++) vrem = (vrem << 1) ^ ((vrem >>> 11) * 0x1f25)
    const info = (version << 12) | vrem
    for (let i = 0; i < 18; i++) {
      const a = size - 11 + (i % 3)
      const b = Math.floor(i / 3)
      set(a, b, bit(info, i))
      set(b, a, bit(info, i))
    }
  }
  // The codewords zigzag up and down two columns at a time from the bottom right, mask 0 applied.
  let index = 0
  for (let right = size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5
    for (let vertical = 0; vertical < size; vertical++) {
      for (let j = 0; j < 2; j++) {
        const x = right - j
        const y = ((right + 1) & 2) === 0 ? size - 1 - vertical : vertical
        if (reserved[y][x]) continue
        const on = index < codewords.length * 8 && bit(codewords[index >>> 3], 7 - (index & 7))
        index++
        dark[y][x] = on !== ((x + y) % 2 === 0)
      }
    }
  }
  return dark
}

/** An SVG of the QR code, with the 4-module quiet zone the standard asks for. */
const qrSvg = (text) => {
  const modules = qrModules(text)
  const size = modules.length + 8
  let path = ''
  modules.forEach((row, y) =>
    row.forEach((on, x) => {
      if (on) path += `M${x + 4} ${y + 4}h1v1h-1z`
    })
  )
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg')
  svg.setAttribute('viewBox', `0 0 ${size} ${size}`)
  svg.setAttribute('width', String(size * 4))
  svg.setAttribute('role', 'img')
  svg.setAttribute('aria-label', 'QR code of the authenticator setup link')
  svg.innerHTML = `<rect width="${size}" height="${size}" fill="#fff"/><path fill="#000" d="${path}"/>`
  return svg
}

// --- views --------------------------------------------------------------------------------

const showSignedOut = () => {
  $('#signed-in').hidden = true
  $('#whoami').hidden = true
  $('#signed-out').hidden = false
  $('#notes').replaceChildren()
  $('#sessions').replaceChildren()
  $('#activity').replaceChildren()
}

/** Whether the signed-in account has TOTP on: then only a code makes a sign-in fresh again. */
let totpOn = false

const showMfa = (user) => {
  const on = user.mfa?.totp === true
  totpOn = on
  $('#mfa-status').textContent = on
    ? 'On: signing in asks for a code from your authenticator app.'
    : 'Off: your password alone signs you in.'
  $('#mfa-enrol').hidden = on
  $('#mfa-disable-form').hidden = !on
  $('#mfa-setup').hidden = true
}

const showSignedIn = async (user) => {
  showMfa(user)
  $('#user-label').textContent = user.nickname ? `${user.nickname} · ${user.email}` : user.email
  $('#verify-banner').hidden = user.email_verified
  $('#reset-view').hidden = true
  $('#whoami').hidden = false
  $('#signed-out').hidden = true
  $('#signed-in').hidden = false
  await Promise.all([loadNotes(), loadSessions(), loadActivity(), loadPasskeys()])
}

const renderNote = (note) => {
  const item = $('#note-template').content.firstElementChild.cloneNode(true)
  item.dataset.id = note.id
  item.querySelector('.title').textContent = note.title
  item.querySelector('.body').textContent = note.body
  const editor = item.querySelector('.editor')
  const view = item.querySelector('.view')
  item.querySelector('.edit').addEventListener('click', () => {
    editor.elements.title.value = note.title
    editor.elements.body.value = note.body
    view.hidden = true
    editor.hidden = false
    editor.elements.title.focus()
  })
  item.querySelector('.cancel').addEventListener('click', () => {
    editor.hidden = true
    view.hidden = false
  })
  editor.addEventListener('submit', (event) => {
    event.preventDefault()
    attempt(async () => {
      await api(`/notes/${note.id}`, { method: 'PATCH', json: formData(editor) })
      say('')
      await loadNotes()
    })
  })
  item.querySelector('.delete').addEventListener('click', () =>
    attempt(async () => {
      await api(`/notes/${note.id}`, { method: 'DELETE' })
      say('Note deleted.', 'info')
      await loadNotes()
    })
  )
  return item
}

const loadNotes = async () => {
  const { notes } = await api('/notes')
  $('#notes').replaceChildren(...notes.map(renderNote))
  $('#note-count').textContent = notes.length ? `(${notes.length})` : ''
  $('#no-notes').hidden = notes.length > 0
}

const deviceName = (userAgent) => {
  if (!userAgent) return 'Unknown device'
  const browser = /(Firefox|Edg|Chrome|Chromium|Safari)\/[\d.]+/.exec(userAgent)?.[1] ?? 'Browser'
  const system = /(Android|iPhone|iPad|Windows|Mac OS X|Linux)/.exec(userAgent)?.[1] ?? ''
  return system ? `${browser} on ${system}` : browser
}

const loadSessions = async () => {
  const { sessions } = await api('/auth/sessions')
  const items = sessions.map((session) => {
    const item = document.createElement('li')
    item.className = 'session'
    const name = document.createElement('strong')
    name.textContent = deviceName(session.user_agent) + (session.current ? ' (this device)' : '')
    const when = document.createElement('small')
    when.textContent = `signed in ${new Date(session.created_at).toLocaleString()}, last used ${new Date(
      session.last_used_at
    ).toLocaleString()}`
    item.append(name, document.createElement('br'), when)
    return item
  })
  $('#sessions').replaceChildren(...items)
  $('#sign-out-others').hidden = sessions.every((session) => session.current)
  return sessions
}

/** What each security event means to the account's owner. */
const ACTIVITY = {
  login: 'Signed in',
  login_failed: 'Wrong password at sign-in',
  mfa_failed: 'Wrong second-factor code',
  password_changed: 'Password changed',
  password_reset: 'Password reset by email link',
  email_verified: 'Email address verified',
  session_revoked: 'Signed out',
  refresh_reuse_detected: 'A used sign-in token came back; that device was signed out',
  mfa_enabled: 'Two-step sign-in turned on',
  mfa_disabled: 'Two-step sign-in turned off',
  passkey_added: 'Passkey added',
  passkey_removed: 'Passkey removed',
  identity_linked: 'Sign-in provider linked',
  identity_unlinked: 'Sign-in provider unlinked',
}

/** The newest page of GET /auth/events (at most 50), the first ten shown. */
const loadActivity = async () => {
  const { events } = await api('/auth/events')
  const items = events.slice(0, 10).map((event) => {
    const item = document.createElement('li')
    const what = document.createElement('strong')
    what.textContent = ACTIVITY[event.type] ?? event.type
    const where = document.createElement('small')
    const from = [deviceName(event.user_agent), event.ip, event.country].filter(Boolean).join(', ')
    where.textContent = `${new Date(event.created_at).toLocaleString()} · ${from}`
    item.append(what, document.createElement('br'), where)
    return item
  })
  $('#activity').replaceChildren(...items)
  $('#no-activity').hidden = items.length > 0
}

// --- actions ------------------------------------------------------------------------------

$('#sign-in-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const { email, password } = formData(event.target)
  attempt(async () => {
    const answer = await api('/auth/login', { method: 'POST', json: { email, password } })
    event.target.reset()
    say('')
    if (answer.mfa_required) {
      // The password was right; the session starts once the second factor is answered.
      pendingMfaToken = answer.mfa_token
      $('#sign-in-form').hidden = true
      $('#mfa-form').hidden = false
      $('#mfa-form').elements.code.focus()
      return
    }
    await showSignedIn(answer.user)
  })
})

let pendingMfaToken = null

$('#mfa-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const { code, recovery } = formData(event.target)
  attempt(async () => {
    const method = recovery ? 'recovery_code' : 'totp'
    const { user } = await api('/auth/mfa/verify', {
      method: 'POST',
      json: { mfa_token: pendingMfaToken, method, code: code.trim() },
    })
    pendingMfaToken = null
    event.target.reset()
    event.target.hidden = true
    $('#sign-in-form').hidden = false
    say('')
    await showSignedIn(user)
  })
})

$('#mfa-cancel').addEventListener('click', () => {
  pendingMfaToken = null
  $('#mfa-form').hidden = true
  $('#sign-in-form').hidden = false
})

/**
 * A change of how one signs in needs a recent sign-in: ask for the password (with TOTP on, a
 * code: the password alone is not enough then), re-authenticate, then try again.
 */
const freshly = async (action) => {
  try {
    return await action()
  } catch (error) {
    if (!(error instanceof ApiFailure) || error.code !== 'reauthentication_required') throw error
    const answer = window.prompt(
      totpOn
        ? 'Enter a code from your authenticator app (or a recovery code) to continue'
        : 'Enter your password again to change two-step sign-in'
    )
    if (!answer) throw error
    const code = answer.trim()
    const method = /^\d{6}$/.test(code) ? 'totp' : 'recovery_code'
    const json = totpOn ? { method, code } : { password: answer }
    await api('/auth/reauthenticate', { method: 'POST', json })
    return action()
  }
}

$('#mfa-enrol').addEventListener('click', () => {
  attempt(async () => {
    const { secret, otpauth_uri: uri } = await freshly(() =>
      api('/auth/mfa/totp', { method: 'POST' })
    )
    $('#mfa-qr').replaceChildren(qrSvg(uri))
    $('#mfa-secret').textContent = secret
    $('#mfa-codes').hidden = true
    $('#mfa-enrol').hidden = true
    $('#mfa-setup').hidden = false
  })
})

$('#mfa-confirm-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const { code } = formData(event.target)
  attempt(async () => {
    const { recovery_codes: codes } = await freshly(() =>
      api('/auth/mfa/totp/confirm', { method: 'POST', json: { code: code.trim() } })
    )
    event.target.reset()
    const items = codes.map((recoveryCode) => {
      const item = document.createElement('li')
      item.textContent = recoveryCode
      return item
    })
    $('#mfa-code-list').replaceChildren(...items)
    const { user } = await api('/me')
    showMfa(user)
    $('#mfa-codes').hidden = false
    say('Two-step sign-in is on.', 'info')
  })
})

$('#mfa-disable-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const { code } = formData(event.target)
  attempt(async () => {
    await freshly(() => api('/auth/mfa/totp', { method: 'DELETE', json: { code: code.trim() } }))
    event.target.reset()
    $('#mfa-codes').hidden = true
    const { user } = await api('/me')
    showMfa(user)
    say('Two-step sign-in is off.', 'info')
  })
})

$('#sign-up-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const { email, password, nickname } = formData(event.target)
  const json = nickname.trim() ? { email, password, nickname } : { email, password }
  attempt(async () => {
    const registered = await api('/auth/register', { method: 'POST', json })
    event.target.reset()
    refreshMailboxSoon()
    if (registered.email_verification_required) {
      say('Almost there: open the link we mailed you, then sign in.', 'info')
      return
    }
    say('Welcome! Your account is ready.', 'info')
    await showSignedIn(registered.user)
  })
})

$('#note-form').addEventListener('submit', (event) => {
  event.preventDefault()
  attempt(async () => {
    await api('/notes', { method: 'POST', json: formData(event.target) })
    event.target.reset()
    say('')
    await loadNotes()
  })
})

// "Sign out other devices" ends every session but this one, so this page stays signed in.
$('#sign-out-others').addEventListener('click', () =>
  attempt(async () => {
    const sessions = await api('/auth/sessions')
    const others = sessions.sessions.filter((session) => !session.current)
    for (const session of others) await api(`/auth/sessions/${session.id}`, { method: 'DELETE' })
    say(`Signed out ${others.length} other device${others.length === 1 ? '' : 's'}.`, 'info')
    await Promise.all([loadSessions(), loadActivity()])
  })
)

$('#sign-out').addEventListener('click', () =>
  attempt(async () => {
    await api('/auth/logout', { method: 'POST' })
    say('You are signed out.', 'info')
    showSignedOut()
  })
)

// --- passkeys (WebAuthn): the browser's own JSON forms of the options and the credential -------

const passkeysSupported = () =>
  typeof window.PublicKeyCredential?.parseCreationOptionsFromJSON === 'function'

const loadPasskeys = async () => {
  $('#passkeys-card').hidden = !passkeysSupported()
  const { passkeys } = await api('/auth/passkeys')
  const items = passkeys.map((passkey) => {
    const item = document.createElement('li')
    item.className = 'passkey'
    const name = document.createElement('strong')
    name.textContent = passkey.name
    const when = document.createElement('small')
    when.textContent = ` added ${new Date(passkey.created_at).toLocaleString()}`
    const remove = document.createElement('button')
    remove.type = 'button'
    remove.className = 'danger'
    remove.textContent = 'Remove'
    remove.addEventListener('click', () =>
      attempt(async () => {
        await api(`/auth/passkeys/${passkey.id}`, { method: 'DELETE' })
        say('Passkey removed.', 'info')
        await loadPasskeys()
      })
    )
    item.append(name, when, ' ', remove)
    return item
  })
  $('#passkeys').replaceChildren(...items)
  $('#no-passkeys').hidden = items.length > 0
}

$('#add-passkey').addEventListener('click', () =>
  attempt(async () => {
    const options = await api('/auth/passkeys/register/options', { method: 'POST' })
    const credential = await navigator.credentials
      .create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) })
      .catch(() => null)
    if (!credential) return say('No passkey was created.')
    await api('/auth/passkeys/register', {
      method: 'POST',
      json: { credential: credential.toJSON(), name: deviceName(navigator.userAgent) },
    })
    say('Passkey added: you can sign in with it now.', 'info')
    await loadPasskeys()
  })
)

$('#passkey-sign-in').addEventListener('click', () =>
  attempt(async () => {
    const options = await api('/auth/passkeys/login/options', { method: 'POST', json: {} })
    const credential = await navigator.credentials
      .get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) })
      .catch(() => null)
    if (!credential) return say('No passkey was used.')
    const signedIn = await api('/auth/passkeys/login', {
      method: 'POST',
      json: { credential: credential.toJSON() },
    })
    if (signedIn.mfa_required) return say('This account also needs its second factor.')
    say('')
    await showSignedIn(signedIn.user)
  })
)

$('#passkey-sign-in').hidden = !passkeysSupported()

// --- account recovery and email verification ---------------------------------------------

$('#forgot-link').addEventListener('click', () => {
  $('#sign-in-form').hidden = true
  $('#forgot-form').hidden = false
  $('#forgot-form').elements.email.value = $('#sign-in-form').elements.email.value
})

$('#forgot-cancel').addEventListener('click', () => {
  $('#forgot-form').hidden = true
  $('#sign-in-form').hidden = false
})

$('#forgot-form').addEventListener('submit', (event) => {
  event.preventDefault()
  attempt(async () => {
    await api('/auth/password/forgot', { method: 'POST', json: formData(event.target) })
    // The same answer whether or not the address has an account: so is the message.
    say('If an account uses this address, a reset link is on its way.', 'info')
    event.target.hidden = true
    $('#sign-in-form').hidden = false
    refreshMailboxSoon()
  })
})

$('#send-verification').addEventListener('click', () =>
  attempt(async () => {
    const { user } = await api('/me')
    await api('/auth/email/verification', { method: 'POST', json: { email: user.email } })
    say('A verification link is on its way to your inbox.', 'info')
    refreshMailboxSoon()
  })
)

let resetToken = null

$('#reset-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const { new_password: newPassword } = formData(event.target)
  attempt(async () => {
    await api('/auth/password/reset', {
      method: 'POST',
      json: { token: resetToken, new_password: newPassword },
    })
    resetToken = null
    event.target.reset()
    say('Your password is changed, and every device is signed out. Sign in with it now.', 'info')
    showSignedOut()
    $('#reset-view').hidden = true
  })
})

// Leaving the reset view: the token is dropped, and the page is what the cookies say it is.
$('#reset-cancel').addEventListener('click', () => {
  resetToken = null
  $('#reset-form').reset()
  $('#reset-view').hidden = true
  say('')
  attempt(loadAccount)
})

/**
 * A link from a message (`#reset=<token>`, `#verify=<token>`) or the way back from an identity
 * provider (`#login=<code>`, `#login_error=<code>`). The fragment never reaches a server; it is
 * taken out of the address bar at once, so that it stays out of the history too.
 */
const takeLinkToken = () => {
  const match = /^#(reset|verify|login|login_error)=([A-Za-z0-9_~-]+)$/.exec(location.hash)
  if (!match) return null
  history.replaceState(null, '', location.pathname + location.search)
  return { kind: match[1], token: match[2] }
}

const loadAccount = async () => {
  try {
    const { user } = await api('/me')
    await showSignedIn(user)
  } catch (error) {
    if (error instanceof ApiFailure && SIGNED_OUT_CODES.has(error.code)) {
      showSignedOut()
      return
    }
    throw error
  }
}

const followLink = async () => {
  const link = takeLinkToken()
  if (link?.kind === 'reset') {
    resetToken = link.token
    say('')
    $('#signed-in').hidden = true
    $('#signed-out').hidden = true
    $('#reset-view').hidden = false
    $('#reset-form').elements.new_password.focus()
    return
  }
  if (link?.kind === 'verify') {
    await api('/auth/email/verify', { method: 'POST', json: { token: link.token } })
    say('Your email address is verified.', 'info')
  }
  // The one-time code from the provider's sign-in becomes the session's cookies.
  if (link?.kind === 'login') await api('/auth/oidc/exchange', { method: 'POST', json: { code: link.token } })
  if (link?.kind === 'login_error') say(MESSAGES[link.token] ?? 'The sign-in failed.')
  await loadAccount()
}

/** "Sign in with …" for each configured identity provider (none: nothing shown). */
const loadProviders = async () => {
  const { providers } = await api('/auth/oidc/providers')
  const links = providers.map(({ id, name }) => {
    const link = document.createElement('a')
    link.className = 'button secondary'
    link.href = `/auth/oidc/${encodeURIComponent(id)}/start`
    link.textContent = `Sign in with ${name}`
    return link
  })
  $('#providers').replaceChildren(...links)
  $('#providers').hidden = links.length === 0
}

window.addEventListener('hashchange', () => attempt(followLink))

// --- the mailbox (local development only: GET /dev/outbox exists only with DEV_OUTBOX=on) --

/** The text of a message, with its links made clickable (built as nodes, never as HTML). */
const messageBody = (text) => {
  const body = document.createElement('pre')
  let last = 0
  for (const match of text.matchAll(/https?:\/\/\S+/g)) {
    body.append(text.slice(last, match.index))
    const link = document.createElement('a')
    link.href = match[0]
    link.textContent = match[0]
    body.append(link)
    last = match.index + match[0].length
  }
  body.append(text.slice(last))
  return body
}

const loadMailbox = async () => {
  let outbox
  try {
    outbox = await api('/dev/outbox')
  } catch (error) {
    if (error instanceof ApiFailure && error.status === 404) return
    throw error
  }
  const items = outbox.messages.map((message) => {
    const item = document.createElement('li')
    item.className = 'mail'
    const subject = document.createElement('strong')
    subject.textContent = message.subject
    const meta = document.createElement('small')
    meta.textContent = ` to ${message.to}, ${new Date(message.created_at).toLocaleString()}`
    item.append(subject, meta, messageBody(message.text))
    return item
  })
  $('#mailbox-messages').replaceChildren(...items)
  $('#mailbox-empty').hidden = items.length > 0
  $('#mailbox').hidden = false
}

// Messages are written just after the API answers, so look again a moment later.
const refreshMailboxSoon = () => setTimeout(() => attempt(loadMailbox), 400)

$('#mailbox-refresh').addEventListener('click', () => attempt(loadMailbox))

// On load: a link from a message first, then the cookies (if any) decide who is signed in.
attempt(followLink)
attempt(loadMailbox)
attempt(loadProviders)
