/** The notes resource's store: what its routes need, whatever keeps the rows. */
export interface NoteRow {
  id: string
  user_id: string
  title: string
  body: string
  created_at: string
  updated_at: string
}

/** Every call is scoped to the owner: another user's note is as absent as a missing one. */
export interface NoteStore {
  list(userId: string): Promise<NoteRow[]>
  insert(note: Omit<NoteRow, 'updated_at'>): Promise<NoteRow | null>
  find(userId: string, id: string): Promise<NoteRow | null>
  update(
    userId: string,
    id: string,
    changes: { title?: string; body?: string },
    updatedAt: string
  ): Promise<NoteRow | null>
  delete(userId: string, id: string): Promise<boolean>
}
