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
}

const showSignedIn = async (user) => {
  $('#user-label').textContent = user.nickname ? `${user.nickname} · ${user.email}` : user.email
  $('#whoami').hidden = false
  $('#signed-out').hidden = true
  $('#signed-in').hidden = false
  await Promise.all([loadNotes(), loadSessions()])
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
    const { user } = await api('/auth/register', { method: 'POST', json })
    event.target.reset()
    say('Welcome! Your account is ready.', 'info')
    await showSignedIn(user)
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
    await loadSessions()
  })
)

$('#sign-out').addEventListener('click', () =>
  attempt(async () => {
    await api('/auth/logout', { method: 'POST' })
    say('You are signed out.', 'info')
    showSignedOut()
  })
)

// On load: the cookies (if any) decide whether this browser is signed in.
attempt(async () => {
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
})
