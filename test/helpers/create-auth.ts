/** The composition root as a host builds it: createAuth over the test pool's D1 and KV. */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test'
import { cloudflarePorts } from '../../src/adapters'
import { lazySigner } from '../../src/auth/signer'
import { createAuth } from '../../src/create-auth'
import type { CreateAuthOptions } from '../../src/create-auth'
import { authOptions } from '../../src/options'
import type { AuthPorts } from '../../src/ports'
import { buildRequest } from './requests'
import type { RequestOptions } from './requests'

/**
 * The test pool's signer and issuer, every other option at its default, `given` on top; over the
 * pool's one D1 database unless `ports` says otherwise (the sharded tests).
 */
export const testAuth = (
  given: Partial<CreateAuthOptions> = {},
  ports: AuthPorts = cloudflarePorts({ db: env.DB, refreshTokens: env.REFRESH_TOKENS })
) =>
  createAuth(
    {
      ...authOptions({
        signer: lazySigner('HS256', undefined, { JWT_SECRET: env.TEST_JWT_SECRET }),
        issuer: env.JWT_ISSUER,
      }),
      ...given,
    },
    ports
  )

/** A request to an app of the test's own, once its waitUntil work is done too. */
export const fetchApp = async (
  app: {
    fetch: (request: Request, env: object, ctx: ExecutionContext) => Response | Promise<Response>
  },
  path: string,
  options: RequestOptions = {}
): Promise<Response> => {
  const ctx = createExecutionContext()
  const res = await app.fetch(buildRequest(path, options), {}, ctx)
  await waitOnExecutionContext(ctx)
  return res
}
