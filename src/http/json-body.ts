/** Reads a JSON object body, validates it against a schema and hands the typed result on. */
import type { HonoRequest, MiddlewareHandler } from 'hono'
import * as v from 'valibot'
import type { AppEnv } from '../env'
import { ApiError } from './errors'

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i
/** Far longer than any real media type: a longer header is refused without being matched. */
export const MAX_MEDIA_TYPE_LENGTH = 256

/** Whether the request's Content-Type is `pattern`, looked at only when it is of a sane length. */
export const hasMediaType = (request: Request, pattern: RegExp): boolean => {
  const contentType = request.headers.get('Content-Type') ?? ''
  return contentType.length <= MAX_MEDIA_TYPE_LENGTH && pattern.test(contentType)
}
const ROOT_FIELD = 'request'
// Fatal: bytes that are not UTF-8 are refused, never turned into U+FFFD (ten 0xFF bytes and ten
// 0xFE bytes would otherwise be the same password).
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })

/** Whitespace only, judged on the bytes, so that a body of another media type is not decoded as text. */
const isBlank = async (request: HonoRequest): Promise<boolean> => {
  if (request.raw.body === null) return true
  return new TextDecoder().decode(await request.arrayBuffer()).trim() === ''
}

const readJsonObject = async (
  request: HonoRequest,
  optional: boolean
): Promise<Record<string, unknown>> => {
  // The media type is checked before the body is read: a refused body is never decoded.
  if (!hasMediaType(request.raw, JSON_MEDIA_TYPE)) {
    if (optional && (await isBlank(request))) return {}
    throw new ApiError('unsupported_media_type')
  }
  // Read first and decode apart: the body limit's 413 must not turn into invalid_json.
  const bytes = await request.arrayBuffer()
  let body: string
  try {
    body = strictUtf8.decode(bytes)
  } catch {
    throw new ApiError('invalid_json', { message: 'The request body is not valid UTF-8.' })
  }
  if (optional && body.trim() === '') return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    throw new ApiError('invalid_json', { message: 'The request body is not valid JSON.' })
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ApiError('invalid_json')
  }
  return parsed as Record<string, unknown>
}

/** One message per field, the first that applies; a missing field says so plainly. */
const fieldErrors = (issues: readonly v.BaseIssue<unknown>[]): Record<string, string> => {
  const details: Record<string, string> = {}
  for (const issue of issues) {
    const field = issue.path?.map((item) => String(item.key)).join('.') || ROOT_FIELD
    if (field in details) continue
    const missing = issue.input === undefined && issue.path !== undefined
    details[field] = missing ? `${field} is required` : issue.message
  }
  return details
}

export const jsonBody = <S extends v.GenericSchema>(
  schema: S,
  options: { optional?: boolean } = {}
): MiddlewareHandler<
  AppEnv,
  string,
  { in: { json: v.InferInput<S> }; out: { json: v.InferOutput<S> } }
> =>
  async function jsonBody(c, next) {
    const body = await readJsonObject(c.req, options.optional === true)
    const result = v.safeParse(schema, body)
    if (!result.success) {
      throw new ApiError('validation_failed', { details: fieldErrors(result.issues) })
    }
    c.req.addValidatedData('json', result.output as object)
    await next()
  }
