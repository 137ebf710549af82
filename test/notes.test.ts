/** The notes API: CRUD scoped to the caller, validation, and notes of others kept out of sight. */
import { describe, expect, it } from 'vitest'
import { registerUser } from './helpers/accounts'
import type { Account } from './helpers/accounts'
import { pinClock, setClock } from './helpers/clock'
import { api, expectError } from './helpers/requests'

interface Note {
  id: string
  title: string
  body: string
  created_at: string
  updated_at: string
}

const createNote = async (
  account: Account,
  note: { title: string; body: string }
): Promise<Note> => {
  const res = await api('/notes', { token: account.accessToken, json: note })
  expect(res.status, await res.clone().text()).toBe(201)
  return (await res.json<{ note: Note }>()).note
}

const getNote = (account: Account, id: string) =>
  api(`/notes/${id}`, { token: account.accessToken })

const patchNote = (account: Account, id: string, json: unknown) =>
  api(`/notes/${id}`, { method: 'PATCH', token: account.accessToken, json })

const listNotes = async (account: Account): Promise<Note[]> => {
  const res = await api('/notes', { token: account.accessToken })
  expect(res.status).toBe(200)
  return (await res.json<{ notes: Note[] }>()).notes
}

describe('notes CRUD', () => {
  it('POST /notes creates a note: 201 with id, title, body and equal timestamps', async () => {
    const account = await registerUser()
    const res = await api('/notes', {
      token: account.accessToken,
      json: { title: 'Groceries', body: 'milk' },
    })
    expect(res.status).toBe(201)
    const { note } = await res.json<{ note: Note }>()
    expect(Object.keys(note).sort()).toEqual(['body', 'created_at', 'id', 'title', 'updated_at'])
    expect(note).toMatchObject({ title: 'Groceries', body: 'milk' })
    expect(note.id).toMatch(/\S/)
    expect(new Date(note.created_at).toISOString()).toBe(note.created_at)
    expect(note.updated_at).toBe(note.created_at)
  })

  it('GET /notes/:id returns the note as created', async () => {
    const account = await registerUser()
    const created = await createNote(account, { title: 'Read', body: 'me' })
    const res = await getNote(account, created.id)
    expect(res.status).toBe(200)
    expect((await res.json<{ note: Note }>()).note).toEqual(created)
  })

  it("GET /notes lists only the caller's notes, newest first", async () => {
    const start = pinClock()
    const account = await registerUser()
    const other = await registerUser()
    const first = await createNote(account, { title: 'first', body: '' })
    setClock(start + 1000)
    const second = await createNote(account, { title: 'second', body: '' })
    setClock(start + 2000)
    const third = await createNote(account, { title: 'third', body: '' })
    await createNote(other, { title: 'not yours', body: '' })
    expect((await listNotes(account)).map((note) => note.id)).toEqual([
      third.id,
      second.id,
      first.id,
    ])
  })

  it('GET /notes keeps creation order for notes made in the same millisecond', async () => {
    pinClock()
    const account = await registerUser()
    const ids: string[] = []
    for (const title of ['a', 'b', 'c']) {
      ids.push((await createNote(account, { title, body: '' })).id)
    }
    expect((await listNotes(account)).map((note) => note.id)).toEqual(ids.reverse())
  })

  it('GET /notes is an empty list for a new user', async () => {
    expect(await listNotes(await registerUser())).toEqual([])
  })

  it('PATCH /notes/:id changes only the fields sent and moves updated_at', async () => {
    const start = pinClock()
    const account = await registerUser()
    const created = await createNote(account, { title: 'Title', body: 'Body' })
    setClock(start + 5000)

    const titleOnly = await patchNote(account, created.id, { title: 'New title' })
    expect(titleOnly.status).toBe(200)
    const afterTitle = (await titleOnly.json<{ note: Note }>()).note
    expect(afterTitle).toMatchObject({
      id: created.id,
      title: 'New title',
      body: 'Body',
      created_at: created.created_at,
    })
    expect(afterTitle.updated_at).toBe(new Date(start + 5000).toISOString())

    setClock(start + 9000)
    const bodyOnly = await patchNote(account, created.id, { body: '' })
    expect(bodyOnly.status).toBe(200)
    const afterBody = (await bodyOnly.json<{ note: Note }>()).note
    expect(afterBody).toMatchObject({
      title: 'New title',
      body: '',
      created_at: created.created_at,
    })
    expect(afterBody.updated_at).toBe(new Date(start + 9000).toISOString())

    expect((await (await getNote(account, created.id)).json<{ note: Note }>()).note).toEqual(
      afterBody
    )
  })

  it('PATCH /notes/:id can change both fields at once', async () => {
    const account = await registerUser()
    const created = await createNote(account, { title: 'Title', body: 'Body' })
    const res = await patchNote(account, created.id, { title: 'T2', body: 'B2' })
    expect(res.status).toBe(200)
    expect((await res.json<{ note: Note }>()).note).toMatchObject({ title: 'T2', body: 'B2' })
  })

  it('DELETE /notes/:id answers 204, after which the note is 404 and gone from the list', async () => {
    const account = await registerUser()
    const kept = await createNote(account, { title: 'keep', body: '' })
    const doomed = await createNote(account, { title: 'delete me', body: '' })
    const res = await api(`/notes/${doomed.id}`, { method: 'DELETE', token: account.accessToken })
    expect(res.status).toBe(204)
    expect(await res.text()).toBe('')
    await expectError(await getNote(account, doomed.id), 404, 'not_found')
    await expectError(
      await api(`/notes/${doomed.id}`, { method: 'DELETE', token: account.accessToken }),
      404,
      'not_found'
    )
    expect((await listNotes(account)).map((note) => note.id)).toEqual([kept.id])
  })

  it('a note id that never existed is 404 not_found for GET, PATCH and DELETE', async () => {
    const account = await registerUser()
    const id = crypto.randomUUID()
    await expectError(await getNote(account, id), 404, 'not_found')
    await expectError(await patchNote(account, id, { title: 'x' }), 404, 'not_found')
    await expectError(
      await api(`/notes/${id}`, { method: 'DELETE', token: account.accessToken }),
      404,
      'not_found'
    )
  })
})

describe('notes validation', () => {
  it('accepts a title of 1 and of 200 characters and a body of 10000', async () => {
    const account = await registerUser()
    await createNote(account, { title: 'x', body: '' })
    const long = await createNote(account, { title: 't'.repeat(200), body: 'b'.repeat(10_000) })
    expect(long.title).toHaveLength(200)
    expect(long.body).toHaveLength(10_000)
  })

  it('trims the title', async () => {
    const account = await registerUser()
    expect((await createNote(account, { title: '  padded  ', body: '' })).title).toBe('padded')
  })

  it.each([
    ['an empty title', { title: '', body: '' }, 'title'],
    ['a title of only spaces', { title: '   ', body: '' }, 'title'],
    ['a title of 201 characters', { title: 't'.repeat(201), body: '' }, 'title'],
    ['a body of 10001 characters', { title: 't', body: 'b'.repeat(10_001) }, 'body'],
    ['a missing title', { body: 'b' }, 'title'],
    ['a missing body', { title: 't' }, 'body'],
    ['a title that is a number', { title: 5, body: '' }, 'title'],
    ['a body that is null', { title: 't', body: null }, 'body'],
  ])(
    'POST /notes rejects %s with 400 validation_failed naming the field',
    async (_, json, field) => {
      const account = await registerUser()
      const error = await expectError(
        await api('/notes', { token: account.accessToken, json }),
        400,
        'validation_failed'
      )
      expect(Object.keys(error.details ?? {})).toEqual([field])
      expect(await listNotes(account)).toEqual([])
    }
  )

  it('PATCH /notes/:id with an empty object is 400 validation_failed with details', async () => {
    const account = await registerUser()
    const created = await createNote(account, { title: 'Title', body: 'Body' })
    const error = await expectError(
      await patchNote(account, created.id, {}),
      400,
      'validation_failed'
    )
    expect(error.details).toBeTypeOf('object')
    expect(Object.keys(error.details ?? {}).length).toBeGreaterThan(0)
    expect((await (await getNote(account, created.id)).json<{ note: Note }>()).note).toEqual(
      created
    )
  })

  it.each([
    ['an empty title', { title: '' }, 'title'],
    ['a title of 201 characters', { title: 't'.repeat(201) }, 'title'],
    ['a body of 10001 characters', { body: 'b'.repeat(10_001) }, 'body'],
    ['a title that is null', { title: null }, 'title'],
  ])(
    'PATCH /notes/:id rejects %s with 400 validation_failed and leaves the note',
    async (_, json, field) => {
      const account = await registerUser()
      const created = await createNote(account, { title: 'Title', body: 'Body' })
      const error = await expectError(
        await patchNote(account, created.id, json),
        400,
        'validation_failed'
      )
      expect(Object.keys(error.details ?? {})).toEqual([field])
      expect((await (await getNote(account, created.id)).json<{ note: Note }>()).note).toEqual(
        created
      )
    }
  )
})

describe("another user's note", () => {
  it('is 404 not_found for GET, PATCH and DELETE, and is unchanged afterwards', async () => {
    const owner = await registerUser()
    const intruder = await registerUser()
    const note = await createNote(owner, { title: 'private', body: 'secret' })

    const read = await expectError(await getNote(intruder, note.id), 404, 'not_found')
    const changed = await expectError(
      await patchNote(intruder, note.id, { title: 'pwned' }),
      404,
      'not_found'
    )
    const removed = await expectError(
      await api(`/notes/${note.id}`, { method: 'DELETE', token: intruder.accessToken }),
      404,
      'not_found'
    )
    // The same answer as for a note that does not exist, so nothing is disclosed.
    const absent = await expectError(await getNote(intruder, crypto.randomUUID()), 404, 'not_found')
    expect(read).toEqual(absent)
    expect(changed).toEqual(absent)
    expect(removed).toEqual(absent)

    const res = await getNote(owner, note.id)
    expect(res.status).toBe(200)
    expect((await res.json<{ note: Note }>()).note).toEqual(note)
    expect(await listNotes(intruder)).toEqual([])
  })
})

describe('notes without a token', () => {
  it.each([
    ['GET', '/notes', undefined],
    ['POST', '/notes', { title: 't', body: 'b' }],
    ['GET', '/notes/some-id', undefined],
    ['PATCH', '/notes/some-id', { title: 't' }],
    ['DELETE', '/notes/some-id', undefined],
  ])('%s %s is 401 missing_token', async (method, path, json) => {
    const res = await api(path, { method, json })
    await expectError(res, 401, 'missing_token')
    expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer\b/)
  })
})
