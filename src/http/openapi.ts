/**
 * The OpenAPI 3.1 document, generated from the same valibot schemas that validate requests.
 * A test checks that every route the app serves is listed here.
 */
import { toJsonSchema } from '@valibot/to-json-schema'
import type { GenericSchema } from 'valibot'
import { errorStatus } from './errors'
import type { ErrorCode } from './errors'
import { oauthErrorStatus } from './oauth-errors'
import type { OAuthErrorCode } from './oauth-errors'
import * as oauthSchemas from './oauth-schemas'
import { RECOVERY_OPERATIONS } from './openapi-recovery'
import * as schemas from './schemas'

export interface Operation {
  method: 'get' | 'post' | 'patch' | 'delete'
  path: string
  summary: string
  auth: boolean
  body?: GenericSchema
  /** An application/x-www-form-urlencoded body (the OAuth routes). */
  form?: GenericSchema
  /** OAuth routes answer RFC 6749 `{error, error_description}` errors with these statuses. */
  oauthErrors?: OAuthErrorCode[]
  success: { status: 200 | 201 | 202 | 204; schema?: GenericSchema }
  errors: ErrorCode[]
}

const BODY_ERRORS: ErrorCode[] = [
  'invalid_json',
  'validation_failed',
  'payload_too_large',
  'unsupported_media_type',
]
const AUTH_ERRORS: ErrorCode[] = [
  'missing_token',
  'invalid_token',
  'token_expired',
  'token_revoked',
]

const OPERATIONS: Operation[] = [
  {
    method: 'get',
    path: '/health',
    summary: 'Liveness probe',
    auth: false,
    success: { status: 200, schema: schemas.HealthResponse },
    errors: [],
  },
  {
    method: 'post',
    path: '/auth/register',
    summary: 'Create an account and start a session',
    auth: false,
    body: schemas.RegisterBody,
    success: { status: 201, schema: schemas.TokenResponse },
    errors: [...BODY_ERRORS, 'email_taken'],
  },
  {
    method: 'post',
    path: '/auth/login',
    summary: 'Start a session with email and password',
    auth: false,
    body: schemas.LoginBody,
    success: { status: 200, schema: schemas.TokenResponse },
    errors: [...BODY_ERRORS, 'invalid_credentials', 'too_many_requests'],
  },
  {
    method: 'post',
    path: '/auth/refresh',
    summary: 'Rotate a refresh token for a new token pair',
    auth: false,
    body: schemas.RefreshBody,
    success: { status: 200, schema: schemas.TokenResponse },
    errors: [...BODY_ERRORS, 'invalid_refresh_token'],
  },
  {
    method: 'post',
    path: '/auth/logout',
    summary: 'End the current session',
    auth: true,
    body: schemas.LogoutBody,
    success: { status: 204 },
    errors: [...BODY_ERRORS, ...AUTH_ERRORS],
  },
  {
    method: 'post',
    path: '/auth/logout-all',
    summary: 'End every session of the user',
    auth: true,
    success: { status: 204 },
    errors: AUTH_ERRORS,
  },
  {
    method: 'get',
    path: '/auth/sessions',
    summary: "List the user's live sessions",
    auth: true,
    success: { status: 200, schema: schemas.SessionListResponse },
    errors: AUTH_ERRORS,
  },
  {
    method: 'delete',
    path: '/auth/sessions/{id}',
    summary: 'End one session',
    auth: true,
    success: { status: 204 },
    errors: [...AUTH_ERRORS, 'not_found'],
  },
  {
    method: 'post',
    path: '/auth/password',
    summary: 'Change the password; ends every other session',
    auth: true,
    body: schemas.ChangePasswordBody,
    success: { status: 204 },
    errors: [...BODY_ERRORS, ...AUTH_ERRORS, 'invalid_credentials'],
  },
  {
    method: 'get',
    path: '/me',
    summary: 'The signed-in user',
    auth: true,
    success: { status: 200, schema: schemas.UserResponse },
    errors: AUTH_ERRORS,
  },
  {
    method: 'patch',
    path: '/me',
    summary: 'Change the nickname',
    auth: true,
    body: schemas.UpdateMeBody,
    success: { status: 200, schema: schemas.UserResponse },
    errors: [...BODY_ERRORS, ...AUTH_ERRORS],
  },
  {
    method: 'delete',
    path: '/me',
    summary: 'Delete the account and everything in it',
    auth: true,
    body: schemas.DeleteMeBody,
    success: { status: 204 },
    errors: [...BODY_ERRORS, ...AUTH_ERRORS, 'invalid_credentials'],
  },
  {
    method: 'get',
    path: '/notes',
    summary: "The user's notes, newest first",
    auth: true,
    success: { status: 200, schema: schemas.NoteListResponse },
    errors: AUTH_ERRORS,
  },
  {
    method: 'post',
    path: '/notes',
    summary: 'Create a note',
    auth: true,
    body: schemas.CreateNoteBody,
    success: { status: 201, schema: schemas.NoteResponse },
    errors: [...BODY_ERRORS, ...AUTH_ERRORS],
  },
  {
    method: 'get',
    path: '/notes/{id}',
    summary: 'One note',
    auth: true,
    success: { status: 200, schema: schemas.NoteResponse },
    errors: [...AUTH_ERRORS, 'not_found'],
  },
  {
    method: 'patch',
    path: '/notes/{id}',
    summary: 'Change a note',
    auth: true,
    body: schemas.UpdateNoteBody,
    success: { status: 200, schema: schemas.NoteResponse },
    errors: [...BODY_ERRORS, ...AUTH_ERRORS, 'not_found'],
  },
  {
    method: 'delete',
    path: '/notes/{id}',
    summary: 'Delete a note',
    auth: true,
    success: { status: 204 },
    errors: [...AUTH_ERRORS, 'not_found'],
  },
  {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    auth: false,
    success: { status: 200 },
    errors: [],
  },
  {
    method: 'get',
    path: '/.well-known/jwks.json',
    summary: 'Public keys that verify access tokens (empty for HS256)',
    auth: false,
    success: { status: 200, schema: oauthSchemas.JwksResponse },
    errors: ['server_misconfigured'],
  },
  {
    method: 'get',
    path: '/.well-known/oauth-authorization-server',
    summary: 'OAuth 2.0 authorization server metadata (RFC 8414)',
    auth: false,
    success: { status: 200, schema: oauthSchemas.AuthorizationServerMetadata },
    errors: [],
  },
  {
    method: 'post',
    path: '/oauth/token',
    summary: 'OAuth 2.0 refresh_token grant (RFC 6749 §6); rotates like /auth/refresh',
    auth: false,
    form: oauthSchemas.TokenGrantForm,
    success: { status: 200, schema: oauthSchemas.OAuthTokenResponse },
    oauthErrors: ['invalid_request', 'invalid_grant', 'unsupported_grant_type', 'invalid_client'],
    errors: ['payload_too_large'],
  },
  {
    method: 'post',
    path: '/oauth/revoke',
    summary: 'OAuth 2.0 token revocation (RFC 7009); ends the session of the token',
    auth: false,
    form: oauthSchemas.RevokeForm,
    success: { status: 200 },
    oauthErrors: ['invalid_request', 'invalid_client'],
    errors: ['payload_too_large'],
  },
]

const jsonSchema = (schema: GenericSchema) =>
  toJsonSchema(schema, { target: 'draft-2020-12', errorMode: 'ignore', typeMode: 'input' })

const jsonContent = (schema: object) => ({ 'application/json': { schema } })

const errorResponses = (codes: ErrorCode[]) => {
  const byStatus = new Map<number, ErrorCode[]>()
  for (const code of [...codes, 'service_unavailable' as const]) {
    const status = errorStatus(code)
    byStatus.set(status, [...(byStatus.get(status) ?? []), code])
  }
  return Object.fromEntries(
    [...byStatus].map(([status, statusCodes]) => [
      String(status),
      {
        description: `error: ${statusCodes.join(', ')}`,
        content: jsonContent({ $ref: '#/components/schemas/Error' }),
      },
    ])
  )
}

const oauthErrorResponses = (codes: OAuthErrorCode[]) => {
  const byStatus = new Map<number, OAuthErrorCode[]>()
  for (const code of codes) {
    byStatus.set(oauthErrorStatus(code), [...(byStatus.get(oauthErrorStatus(code)) ?? []), code])
  }
  return Object.fromEntries(
    [...byStatus].map(([status, statusCodes]) => [
      String(status),
      {
        description: `OAuth error: ${statusCodes.join(', ')}`,
        content: jsonContent(jsonSchema(oauthSchemas.OAuthErrorResponse)),
      },
    ])
  )
}

const describe = (operation: Operation) => {
  const parameters = [...operation.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }))
  const { status, schema } = operation.success
  return {
    summary: operation.summary,
    operationId: `${operation.method}${operation.path.replace(/[^A-Za-z]+(\w)?/g, (_, next?: string) => (next ?? '').toUpperCase())}`,
    ...(operation.auth ? { security: [{ bearerAuth: [] }] } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(operation.body
      ? { requestBody: { required: true, content: jsonContent(jsonSchema(operation.body)) } }
      : {}),
    ...(operation.form
      ? {
          requestBody: {
            required: true,
            content: {
              'application/x-www-form-urlencoded': { schema: jsonSchema(operation.form) },
            },
          },
        }
      : {}),
    responses: {
      [String(status)]: schema
        ? { description: 'Success', content: jsonContent(jsonSchema(schema)) }
        : { description: 'Success' },
      ...errorResponses(operation.errors),
      ...oauthErrorResponses(operation.oauthErrors ?? []),
    },
  }
}

const ALL_OPERATIONS = [...OPERATIONS, ...RECOVERY_OPERATIONS]

export const listedOperations = (): { method: string; path: string }[] =>
  ALL_OPERATIONS.map(({ method, path }) => ({ method, path }))

let document: object | undefined

/** Built once per isolate: it depends on nothing but the code. */
export const openApiDocument = (): object => {
  if (document) return document
  const paths: Record<string, Record<string, unknown>> = {}
  for (const operation of ALL_OPERATIONS) {
    paths[operation.path] = { ...paths[operation.path], [operation.method]: describe(operation) }
  }
  document = {
    openapi: '3.1.0',
    info: {
      title: 'Edge JWT auth',
      version: '1.0.0',
      description: 'Register, sign in, rotate refresh tokens, end sessions, and keep notes.',
    },
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Error: jsonSchema(schemas.ErrorResponse) },
    },
    paths,
  }
  return document
}
