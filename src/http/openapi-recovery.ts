/** The OpenAPI operations of account recovery and email verification, kept together to move as one. */
import type { Operation } from './openapi'
import * as schemas from './schemas'

const BODY_ERRORS: Operation['errors'] = [
  'invalid_json',
  'validation_failed',
  'payload_too_large',
  'unsupported_media_type',
]

export const RECOVERY_OPERATIONS: Operation[] = [
  {
    method: 'post',
    path: '/auth/password/forgot',
    summary: 'Mail a password reset link (the same 202 whether or not the account exists)',
    auth: false,
    body: schemas.EmailOnlyBody,
    success: { status: 202, schema: schemas.AcceptedResponse },
    errors: BODY_ERRORS,
  },
  {
    method: 'post',
    path: '/auth/password/reset',
    summary: 'Set a new password with a reset token; ends every session',
    auth: false,
    body: schemas.ResetPasswordBody,
    success: { status: 204 },
    errors: [...BODY_ERRORS, 'invalid_one_time_token'],
  },
  {
    method: 'post',
    path: '/auth/email/verification',
    summary: 'Mail an email verification link (the same 202 for every address)',
    auth: false,
    body: schemas.EmailOnlyBody,
    success: { status: 202, schema: schemas.AcceptedResponse },
    errors: BODY_ERRORS,
  },
  {
    method: 'post',
    path: '/auth/email/verify',
    summary: 'Mark the address verified with a verification token',
    auth: false,
    body: schemas.VerifyEmailBody,
    success: { status: 200, schema: schemas.UserResponse },
    errors: [...BODY_ERRORS, 'invalid_one_time_token'],
  },
  {
    method: 'get',
    path: '/dev/outbox',
    summary: 'Local development only (DEV_OUTBOX=on): the messages of MAIL_TRANSPORT=outbox',
    auth: false,
    success: { status: 200, schema: schemas.OutboxResponse },
    errors: ['not_found'],
  },
]
