/** The notes resource's wire shapes: validation and the OpenAPI document both come from these. */
import * as v from 'valibot'
import { boundedText, Timestamp } from '../../http/schemas'
import type { NoteRow } from './store'

const NoteTitle = boundedText('title', 1, 200, { trim: true })
const NoteBody = boundedText('body', 0, 10_000, { allowControl: true })

export const CreateNoteBody = v.object({ title: NoteTitle, body: NoteBody })

export const UpdateNoteBody = v.pipe(
  v.object({ title: v.optional(NoteTitle), body: v.optional(NoteBody) }),
  v.check(
    (note) => note.title !== undefined || note.body !== undefined,
    'send title, body or both'
  ),
  // The check above, as the document states it.
  v.metadata({ anyOf: [{ required: ['title'] }, { required: ['body'] }] })
)

export const NoteSchema = v.object({
  id: v.string(),
  title: v.string(),
  body: v.string(),
  created_at: Timestamp,
  updated_at: Timestamp,
})

export const NoteResponse = v.object({ note: NoteSchema })
export const NoteListResponse = v.object({ notes: v.array(NoteSchema) })

/** The row as the contract shows it; checked against the declared schema. */
export const presentNote = (note: NoteRow) =>
  ({
    id: note.id,
    title: note.title,
    body: note.body,
    created_at: note.created_at,
    updated_at: note.updated_at,
  }) satisfies v.InferOutput<typeof NoteSchema>
