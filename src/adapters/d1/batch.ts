/** Several statements in one D1 transaction: all of them commit, or none does. */

/** A feature's steps, for the D1 adapter: prepared statements of the same transaction. */
export const statementsOf = (steps: readonly unknown[]): D1PreparedStatement[] =>
  steps.filter(
    (step): step is D1PreparedStatement =>
      typeof step === 'object' && step !== null && 'bind' in step
  )

/** Returns each statement's rows (RETURNING or SELECT), in order. */
export const runBatch = async <Row = Record<string, unknown>>(
  db: D1Database,
  statements: D1PreparedStatement[]
): Promise<Row[][]> => {
  const results = await db.batch<Row>(statements)
  return results.map((result) => result.results ?? [])
}
