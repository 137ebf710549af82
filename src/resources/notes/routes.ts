/** /notes: a small resource API, every query scoped to the caller. */
import type { Context } from 'hono'
import { Hono } from 'hono/tiny'
import { isoNow } from '../../clock'
import type { AppEnv } from '../../env'
import { endpoint } from '../../http/endpoint'
import type { RouteDocs } from '../../http/endpoint'
import { ApiError } from '../../http/errors'
import {
  CreateNoteBody,
  NoteListResponse,
  NoteResponse,
  presentNote,
  UpdateNoteBody,
} from './schemas'
import type { NoteStore } from './store'

/** What the resource's setup built (index.ts), as every request sees it. */
const notesOf = (c: Context<AppEnv>) => c.var.services.features.notes as NoteStore

// Another user's note answers exactly like a missing one, so its existence is not disclosed.
const noteNotFound = () => new ApiError('not_found', { message: 'No such note.' })

export const noteRoutes = new Hono<AppEnv>()
  .get('/', endpoint({ auth: true }), async (c) => {
    const notes = await notesOf(c).list(c.get('auth').userId)
    return c.json({ notes: notes.map(presentNote) }, 200)
  })
  .post('/', endpoint({ auth: true, body: CreateNoteBody }), async (c) => {
    const { title, body } = c.req.valid('json')
    const note = await notesOf(c).insert({
      id: crypto.randomUUID(),
      user_id: c.get('auth').userId,
      title,
      body,
      created_at: isoNow(),
    })
    if (!note) throw new ApiError('service_unavailable')
    return c.json({ note: presentNote(note) }, 201)
  })
  .get('/:id', endpoint({ auth: true }), async (c) => {
    const note = await notesOf(c).find(c.get('auth').userId, c.req.param('id'))
    if (!note) throw noteNotFound()
    return c.json({ note: presentNote(note) }, 200)
  })
  .patch('/:id', endpoint({ auth: true, body: UpdateNoteBody }), async (c) => {
    const note = await notesOf(c).update(
      c.get('auth').userId,
      c.req.param('id'),
      c.req.valid('json'),
      isoNow()
    )
    if (!note) throw noteNotFound()
    return c.json({ note: presentNote(note) }, 200)
  })
  .delete('/:id', endpoint({ auth: true }), async (c) => {
    if (!(await notesOf(c).delete(c.get('auth').userId, c.req.param('id')))) {
      throw noteNotFound()
    }
    return c.body(null, 204)
  })

/** The routes' documentation, read only by the OpenAPI generator (src/openapi/). */
export const noteRouteDocs = {
  'GET /notes': {
    summary: "The user's notes, newest first",
    tag: 'notes',
    success: { status: 200, description: 'The notes', body: NoteListResponse },
  },
  'POST /notes': {
    summary: 'Create a note',
    tag: 'notes',
    success: { status: 201, description: 'The new note', body: NoteResponse },
  },
  'GET /notes/:id': {
    summary: 'One note',
    tag: 'notes',
    success: { status: 200, description: 'The note', body: NoteResponse },
    errors: ['not_found'],
  },
  'PATCH /notes/:id': {
    summary: 'Change a note',
    tag: 'notes',
    success: { status: 200, description: 'The changed note', body: NoteResponse },
    errors: ['not_found'],
  },
  'DELETE /notes/:id': {
    summary: 'Delete a note',
    tag: 'notes',
    success: { status: 204, description: 'Deleted' },
    errors: ['not_found'],
  },
} satisfies RouteDocs
