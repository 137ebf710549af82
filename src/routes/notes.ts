/** /notes: a small resource API, every query scoped to the caller. */
import { Hono } from 'hono'
import { isoNow } from '../clock'
import type { AppEnv } from '../env'
import { ApiError } from '../http/errors'
import { presentNote } from '../http/present'
import { CreateNoteBody, UpdateNoteBody } from '../http/schemas'
import { jsonBody } from '../middleware/json-body'
import { requireAuth } from '../middleware/require-auth'
import { deleteNote, findNote, insertNote, listNotes, updateNote } from '../store/notes'

// Another user's note answers exactly like a missing one, so its existence is not disclosed.
const noteNotFound = () => new ApiError('not_found', { message: 'No such note.' })

export const noteRoutes = new Hono<AppEnv>()
  .get('/', requireAuth(), async (c) => {
    const notes = await listNotes(c.env.DB, c.get('auth').userId)
    return c.json({ notes: notes.map(presentNote) }, 200)
  })
  .post('/', requireAuth(), jsonBody(CreateNoteBody), async (c) => {
    const { title, body } = c.req.valid('json')
    const note = await insertNote(c.env.DB, {
      id: crypto.randomUUID(),
      user_id: c.get('auth').userId,
      title,
      body,
      created_at: isoNow(),
    })
    if (!note) throw new ApiError('service_unavailable')
    return c.json({ note: presentNote(note) }, 201)
  })
  .get('/:id', requireAuth(), async (c) => {
    const note = await findNote(c.env.DB, c.get('auth').userId, c.req.param('id'))
    if (!note) throw noteNotFound()
    return c.json({ note: presentNote(note) }, 200)
  })
  .patch('/:id', requireAuth(), jsonBody(UpdateNoteBody), async (c) => {
    const note = await updateNote(
      c.env.DB,
      c.get('auth').userId,
      c.req.param('id'),
      c.req.valid('json'),
      isoNow()
    )
    if (!note) throw noteNotFound()
    return c.json({ note: presentNote(note) }, 200)
  })
  .delete('/:id', requireAuth(), async (c) => {
    if (!(await deleteNote(c.env.DB, c.get('auth').userId, c.req.param('id')))) throw noteNotFound()
    return c.body(null, 204)
  })
