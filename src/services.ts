/**
 * The domain as the HTTP layer and the features call it: every operation bound once to the
 * options, the ports and the features' hooks (built by createAuth, read from `c.var.services`).
 */
import { publicSigningKeys } from './auth/access-token'
import {
  changePassword,
  checkPassword,
  completeSignIn,
  createAccount,
  deleteAccount,
  passwordLogin,
  renameUser,
} from './auth/accounts'
import type { Core } from './auth/core'
import { Misconfigured } from './auth/errors'
import { resetPassword, sendAccountLink, verifyEmail } from './auth/recovery'
import { revokeToken } from './auth/revocation'
import {
  peekMfaToken,
  provesSecondFactor,
  reauthenticate,
  verifySecondFactor,
} from './auth/second-factor'
import type { SecondFactorAnswer } from './auth/second-factor'
import { listSecurityEvents, recordSecurityEvent } from './auth/security-events'
import type { RequestOrigin, SecurityEventInput } from './auth/security-events'
import {
  authenticate,
  endSessions,
  listSessions,
  refreshSession,
  sessionOfRefreshToken,
  startSession,
} from './auth/sessions'
import type { AuthenticateOptions } from './auth/sessions'
import type { SignInMeta, VerifiedSignIn } from './auth/sign-in'
import { createMailer } from './mail/mailer'
import type { AccountLinkPurpose } from './mail/message'
import type { ConfiguredMailer, PublicUser, SessionScope, UserRow } from './ports'

/**
 * The mailer, chosen and checked once; a half-made mail configuration is kept as its error and
 * thrown wherever mail is needed (a 500 for every such caller alike), not at every route.
 */
const lazyMailer = (core: Core): (() => ConfiguredMailer | null) => {
  let chosen: { mailer: ConfiguredMailer | null } | { error: Misconfigured } | undefined
  return () => {
    if (!chosen) {
      try {
        chosen = { mailer: createMailer(core.options.mail, core.ports.outbox) }
      } catch (error) {
        if (!(error instanceof Misconfigured)) throw error
        chosen = { error }
      }
    }
    if ('error' in chosen) throw chosen.error
    return chosen.mailer
  }
}

export const createServices = (core: Core, features: Readonly<Record<string, unknown>> = {}) => {
  const { options, ports } = core
  const mailer = lazyMailer(core)
  return {
    options,
    ports,
    /** What each registered feature's setup returned, by feature id. */
    features,
    sessions: {
      /** A complete sign-in (a second factor done, a passkey with UV, an identity provider). */
      start: (signIn: VerifiedSignIn, meta: SignInMeta) => startSession(core, signIn, meta),
      refresh: (refreshToken: string) => refreshSession(core, refreshToken),
      authenticate: (accessToken: string, renewal?: AuthenticateOptions) =>
        authenticate(core, accessToken, renewal),
      end: (userId: string, scope: SessionScope) => endSessions(core, userId, scope),
      list: (userId: string) => listSessions(core, userId),
      ofRefreshToken: (refreshToken: string) => sessionOfRefreshToken(core, refreshToken),
      revokeToken: (token: string) => revokeToken(core, token),
    },
    signIn: {
      /** A first factor: the features' gates may answer "second factor required". */
      complete: (signIn: VerifiedSignIn, user: UserRow, meta: SignInMeta) =>
        completeSignIn(core, signIn, user, meta),
      password: (credentials: { email: string; password: string }, meta: SignInMeta) =>
        passwordLogin(core, credentials, meta),
      checkPassword: (email: string, password: string, deviceToken?: string) =>
        checkPassword(core, email, password, deviceToken),
    },
    secondFactor: {
      /** The live challenge of an mfa_token (a method's options route); consumes nothing. */
      peek: (mfaToken: string) => peekMfaToken(core, mfaToken),
      /** The freshness rule's second half: a second factor used, where the account has one. */
      proves: (user: PublicUser, amr: string[]) => provesSecondFactor(core, user, amr),
      verify: (mfaToken: string, answer: SecondFactorAnswer, meta: SignInMeta) =>
        verifySecondFactor(core, mfaToken, answer, meta),
      reauthenticate: (
        subject: { user: PublicUser; sessionId: string },
        proof: { password?: string } & Partial<SecondFactorAnswer>
      ) => reauthenticate(core, subject, proof),
    },
    accounts: {
      /**
       * Registration, and the verification message's sending when mail is on (it must be when
       * verification is required: the account could never sign in otherwise).
       */
      register: async (
        account: { email: string; password: string; nickname?: string },
        meta: SignInMeta
      ) => {
        const sender = mailer()
        if (options.requireEmailVerification && !sender) {
          throw new Misconfigured('REQUIRE_EMAIL_VERIFICATION needs a MAIL_TRANSPORT')
        }
        const { user, tokens } = await createAccount(core, account, meta)
        const sendVerification = sender
          ? () => sendAccountLink(core, sender, 'email_verification', user.email)
          : null
        return { user, tokens, sendVerification }
      },
      rename: (userId: string, nickname: string | null) => renameUser(core, userId, nickname),
      changePassword: (
        subject: { userId: string; sessionId: string },
        currentPassword: string,
        newPassword: string
      ) => changePassword(core, subject, currentPassword, newPassword),
      delete: (userId: string, password: string) => deleteAccount(core, userId, password),
    },
    recovery: {
      /** Everything behind a 202: run after the response; never throws once the mailer is chosen. */
      sendLink: (purpose: AccountLinkPurpose, email: string) => {
        const sender = mailer()
        return () => sendAccountLink(core, sender, purpose, email)
      },
      resetPassword: (token: string, newPassword: string) =>
        resetPassword(core, token, newPassword),
      verifyEmail: (token: string) => verifyEmail(core, token),
    },
    events: {
      /** Never rejects: a failed write is logged. */
      record: (event: SecurityEventInput, origin: RequestOrigin) =>
        recordSecurityEvent(core, event, origin),
      list: (userId: string, cursor: string | undefined) =>
        listSecurityEvents(core, userId, cursor),
    },
    publicSigningKeys: () => publicSigningKeys(options),
    readOutbox: () => ports.outbox.list(),
  }
}

export type AuthServices = ReturnType<typeof createServices>
