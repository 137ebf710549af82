/** Work whose failure harms nothing (the state is already safe without it): logged, never thrown. */

export const warn = (msg: string, error: unknown): void => {
  console.warn(JSON.stringify({ level: 'warn', msg, error: String(error) }))
}

/** Runs `operation`; a failure becomes one warning line named `failureMessage`. */
export const bestEffort = async (
  failureMessage: string,
  operation: () => Promise<unknown>
): Promise<void> => {
  try {
    await operation()
  } catch (error) {
    warn(failureMessage, error)
  }
}
