/**
 * Notes through a client signed by a session (see session.ts): create, list, change, delete.
 * Another user's note answers 404 like a missing one, so `undefined` covers both.
 */
import type { ApiClient, Note } from './client'
import { callFailed } from './client'

export const createNote = async (client: ApiClient, title: string, body: string) => {
  const { data, error, response } = await client.POST('/notes', { body: { title, body } })
  if (error) throw callFailed(response, error)
  return data.note
}

/** Newest first. */
export const listNotes = async (client: ApiClient): Promise<Note[]> => {
  const { data, error, response } = await client.GET('/notes')
  if (error) throw callFailed(response, error)
  return data.notes
}

export const findNote = async (client: ApiClient, id: string): Promise<Note | undefined> => {
  const { data, error, response } = await client.GET('/notes/{id}', {
    params: { path: { id } },
  })
  if (response.status === 404) return undefined
  if (error) throw callFailed(response, error)
  return data.note
}

export const renameNote = async (client: ApiClient, id: string, title: string) => {
  const { data, error, response } = await client.PATCH('/notes/{id}', {
    params: { path: { id } },
    body: { title },
  })
  if (error) throw callFailed(response, error)
  return data.note
}

export const deleteNote = async (client: ApiClient, id: string) => {
  const { error, response } = await client.DELETE('/notes/{id}', { params: { path: { id } } })
  if (error) throw callFailed(response, error)
}
