/**
 * The examples in one run against a live worker (`npm run example` with `npm run dev` running):
 * register, sign in, keep notes through a session that refreshes itself, sign out, and see the
 * ended session refused. Each step is reported through `log`.
 */
import { register, signIn, signOut } from './accounts'
import { ApiCallFailed, createApiClient } from './client'
import type { ApiClientOptions } from './client'
import { createNote, deleteNote, listNotes, renameNote } from './notes'
import { startSession } from './session'

export const tour = async (
  baseUrl: string,
  log: (line: string) => void,
  options: ApiClientOptions = {}
): Promise<void> => {
  const client = createApiClient(baseUrl, options)
  const email = `example-${Date.now().toString(36)}@example.com`
  const password = 'correct horse battery staple'

  const registered = await register(client, { email, password, nickname: 'Example' })
  log(`registered ${registered.user.email} (user ${registered.user.id})`)

  const signedIn = await signIn(client, email, password)
  if (signedIn.outcome !== 'signed-in') throw new Error(`sign-in answered ${signedIn.outcome}`)
  log('signed in: a second session of the same account')

  const session = startSession(client, signedIn.tokens)
  const notes = createApiClient(baseUrl, options)
  notes.use(session.middleware)
  const first = await createNote(notes, 'Groceries', 'Milk')
  const second = await createNote(notes, 'Calls', 'The bank')
  await renameNote(notes, first.id, 'Shopping')
  await deleteNote(notes, second.id)
  log(`notes now: ${(await listNotes(notes)).map((note) => note.title).join(', ')}`)

  await signOut(client, session.current())
  const refused = await listNotes(notes).catch((error: unknown) => error)
  if (!(refused instanceof ApiCallFailed)) throw new Error('the ended session was still accepted')
  log(`after sign-out the session is refused: ${refused.status} ${refused.code}`)
}
