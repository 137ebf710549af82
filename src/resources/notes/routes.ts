/** /notes: a small resource API, every query scoped to the caller. */
import type { Context } from 'hono'
import { Hono } from 'hono/tiny'
import { isoNow } from '../../clock'
import type { AppEnv } from '../../env'
import { endpoint } from '../../http/endpoint'
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
  .get(
    '/',
    endpoint({
      summary: "The user's notes, newest first",
      tag: 'notes',
      auth: true,
      success: { status: 200, description: 'The notes', body: NoteListResponse },
    }),
    async (c) => {
      const notes = await notesOf(c).list(c.get('auth').userId)
      return c.json({ notes: notes.map(presentNote) }, 200)
    }
  )
  .post(
    '/',
    endpoint({
      summary: 'Create a note',
      tag: 'notes',
      auth: true,
      body: CreateNoteBody,
      success: { status: 201, description: 'The new note', body: NoteResponse },
    }),
    async (c) => {
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
    }
  )
  .get(
    '/:id',
    endpoint({
      summary: 'One note',
      tag: 'notes',
      auth: true,
      success: { status: 200, description: 'The note', body: NoteResponse },
      errors: ['not_found'],
    }),
    async (c) => {
      const note = await notesOf(c).find(c.get('auth').userId, c.req.param('id'))
      if (!note) throw noteNotFound()
      return c.json({ note: presentNote(note) }, 200)
    }
  )
  .patch(
    '/:id',
    endpoint({
      summary: 'Change a note',
      tag: 'notes',
      auth: true,
      body: UpdateNoteBody,
      success: { status: 200, description: 'The changed note', body: NoteResponse },
      errors: ['not_found'],
    }),
    async (c) => {
      const note = await notesOf(c).update(
        c.get('auth').userId,
        c.req.param('id'),
        c.req.valid('json'),
        isoNow()
      )
      if (!note) throw noteNotFound()
      return c.json({ note: presentNote(note) }, 200)
    }
  )
  .delete(
    '/:id',
    endpoint({
      summary: 'Delete a note',
      tag: 'notes',
      auth: true,
      success: { status: 204, description: 'Deleted' },
      errors: ['not_found'],
    }),
    async (c) => {
      if (!(await notesOf(c).delete(c.get('auth').userId, c.req.param('id')))) {
        throw noteNotFound()
      }
      return c.body(null, 204)
    }
  )
