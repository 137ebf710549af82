/** Every query on the notes table; each one is scoped to its owner. */
import type { NoteRow, NoteStore } from '../store'

const listNotes = async (db: D1Database, userId: string): Promise<NoteRow[]> => {
  const result = await db
    .prepare('SELECT * FROM notes WHERE user_id = ?1 ORDER BY created_at DESC, rowid DESC')
    .bind(userId)
    .all<NoteRow>()
  return result.results
}

const insertNote = (db: D1Database, note: Omit<NoteRow, 'updated_at'>): Promise<NoteRow | null> =>
  db
    .prepare(
      'INSERT INTO notes (id, user_id, title, body, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5) RETURNING *'
    )
    .bind(note.id, note.user_id, note.title, note.body, note.created_at)
    .first<NoteRow>()

const findNote = (db: D1Database, userId: string, id: string): Promise<NoteRow | null> =>
  db.prepare('SELECT * FROM notes WHERE id = ?1 AND user_id = ?2').bind(id, userId).first<NoteRow>()

const updateNote = (
  db: D1Database,
  userId: string,
  id: string,
  changes: { title?: string; body?: string },
  updatedAt: string
): Promise<NoteRow | null> =>
  db
    .prepare(
      `UPDATE notes SET title = COALESCE(?3, title), body = COALESCE(?4, body), updated_at = ?5
          WHERE id = ?1 AND user_id = ?2 RETURNING *`
    )
    .bind(id, userId, changes.title ?? null, changes.body ?? null, updatedAt)
    .first<NoteRow>()

const deleteNote = async (db: D1Database, userId: string, id: string): Promise<boolean> => {
  const result = await db
    .prepare('DELETE FROM notes WHERE id = ?1 AND user_id = ?2')
    .bind(id, userId)
    .run()
  return result.meta.changes === 1
}

export const d1NoteStore = (db: D1Database): NoteStore => ({
  list: (userId) => listNotes(db, userId),
  insert: (note) => insertNote(db, note),
  find: (userId, id) => findNote(db, userId, id),
  update: (userId, id, changes, updatedAt) => updateNote(db, userId, id, changes, updatedAt),
  delete: (userId, id) => deleteNote(db, userId, id),
})

/** The notes' part of deleting a user: a statement of the deletion's own transaction. */
export const deleteNotesOf = (db: D1Database, userId: string): D1PreparedStatement =>
  db.prepare('DELETE FROM notes WHERE user_id = ?1').bind(userId)
