/** Every query on the notes table; each one is scoped to its owner. */
import { guardD1 } from './guard'

export interface NoteRow {
  id: string
  user_id: string
  title: string
  body: string
  created_at: string
  updated_at: string
}

export const listNotes = async (db: D1Database, userId: string): Promise<NoteRow[]> => {
  const result = await guardD1(() =>
    db
      .prepare('SELECT * FROM notes WHERE user_id = ?1 ORDER BY created_at DESC, rowid DESC')
      .bind(userId)
      .all<NoteRow>()
  )
  return result.results
}

export const insertNote = (
  db: D1Database,
  note: Omit<NoteRow, 'updated_at'>
): Promise<NoteRow | null> =>
  guardD1(() =>
    db
      .prepare(
        'INSERT INTO notes (id, user_id, title, body, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5) RETURNING *'
      )
      .bind(note.id, note.user_id, note.title, note.body, note.created_at)
      .first<NoteRow>()
  )

export const findNote = (db: D1Database, userId: string, id: string): Promise<NoteRow | null> =>
  guardD1(() =>
    db
      .prepare('SELECT * FROM notes WHERE id = ?1 AND user_id = ?2')
      .bind(id, userId)
      .first<NoteRow>()
  )

export const updateNote = (
  db: D1Database,
  userId: string,
  id: string,
  changes: { title?: string; body?: string },
  updatedAt: string
): Promise<NoteRow | null> =>
  guardD1(() =>
    db
      .prepare(
        `UPDATE notes SET title = COALESCE(?3, title), body = COALESCE(?4, body), updated_at = ?5
          WHERE id = ?1 AND user_id = ?2 RETURNING *`
      )
      .bind(id, userId, changes.title ?? null, changes.body ?? null, updatedAt)
      .first<NoteRow>()
  )

export const deleteNote = async (db: D1Database, userId: string, id: string): Promise<boolean> => {
  const result = await guardD1(() =>
    db.prepare('DELETE FROM notes WHERE id = ?1 AND user_id = ?2').bind(id, userId).run()
  )
  return result.meta.changes === 1
}
