// The little of oidc-provider's API the e2e test uses (the package ships no types of its own).
declare module 'oidc-provider' {
  import type { Server } from 'node:http'

  interface Account {
    accountId: string
    claims: () => Record<string, unknown>
  }

  export default class Provider {
    constructor(
      issuer: string,
      configuration: Record<string, unknown> & {
        findAccount?: (context: unknown, sub: string) => Account | Promise<Account>
      }
    )
    listen(port: number, host: string): Server
  }
}
