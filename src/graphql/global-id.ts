/**
 * The key inside a Relay global id (`node(id:)`, cursors): every id Vigil issues carries a
 * positive integer. Anything else matches no row (0) rather than failing the query.
 */
export function parseIntId(id: string): number {
  const n = Number(id);
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}
