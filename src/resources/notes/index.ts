/**
 * The notes resource, registered like any feature (src/features.ts): its routes under /notes,
 * its store over the guarded D1 binding, and its part of a user's deletion. A protected resource
 * of one's own is this folder with other names (docs/extending.md).
 */
import type { AuthFeature } from '../../feature'
import { mount } from '../../feature'
import type { PartDocs } from '../../http/endpoint'
import { d1NoteStore, deleteNotesOf } from './adapters/d1'
import { noteRouteDocs, noteRoutes } from './routes'
import { NoteSchema } from './schemas'

export const notesResource = {
  id: 'notes',
  routes: [mount('/notes', noteRoutes)],
  setup: (core) => ({
    services: d1NoteStore(core.ports.d1),
    onUserDeleted: (userId) => ({ steps: [deleteNotesOf(core.ports.d1, userId)] }),
  }),
} satisfies AuthFeature

/** For the OpenAPI generator only (src/openapi/), so the deployed bundle leaves it out. */
export const noteDocs: PartDocs = {
  routes: [noteRouteDocs],
  tags: [{ name: 'notes', description: "The user's notes." }],
  schemas: { Note: NoteSchema },
}
