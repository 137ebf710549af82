/** Several statements in one D1 transaction: all of them commit, or none does. */

/** Returns each statement's rows (RETURNING or SELECT), in order. */
export const runBatch = async <Row = Record<string, unknown>>(
  db: D1Database,
  statements: D1PreparedStatement[]
): Promise<Row[][]> => {
  const results = await db.batch<Row>(statements)
  return results.map((result) => result.results ?? [])
}
