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
  email_not_verified:
    'Please verify your email address first: open the link we mailed you when you signed up.',
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

// --- views --------------------------------------------------------------------------------

const showSignedOut = () => {
  $('#signed-in').hidden = true
  $('#whoami').hidden = true
  $('#signed-out').hidden = false
  $('#notes').replaceChildren()
  $('#sessions').replaceChildren()
  $('#activity').replaceChildren()
}

const showSignedIn = async (user) => {
  $('#user-label').textContent = user.nickname ? `${user.nickname} · ${user.email}` : user.email
  $('#verify-banner').hidden = user.email_verified
  $('#reset-view').hidden = true
  $('#whoami').hidden = false
  $('#signed-out').hidden = true
  $('#signed-in').hidden = false
  await Promise.all([loadNotes(), loadSessions(), loadActivity()])
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
    const { user } = await api('/auth/login', { method: 'POST', json: { email, password } })
    event.target.reset()
    say('')
    await showSignedIn(user)
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
 * A link from a message: `#reset=<token>` or `#verify=<token>`. The fragment never reaches a
 * server; it is taken out of the address bar at once, so that it stays out of the history too.
 */
const takeLinkToken = () => {
  const match = /^#(reset|verify)=([A-Za-z0-9_-]+)$/.exec(location.hash)
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
  await loadAccount()
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
