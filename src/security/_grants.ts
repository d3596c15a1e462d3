/** Whether a set of grants holds one permission. */
export type GrantMatcher = (permission: string) => boolean

/**
 * Compiles permission grants: `image.read` holds exactly that permission, `image.*` every permission
 * that starts with `image.`, and `*` every permission. Matching is case-sensitive, as records are.
 */
export function compileGrants(grants: readonly string[]): GrantMatcher {
  if (grants.includes('*')) return () => true
  // The exact-only matcher below is a shortcut: the general one answers the same, and a stray
  // prefix holding a space matches no permission (equivalent mutants).
  const exact = new Set<string>()
  const prefixes: string[] = []
  for (const grant of grants) {
    if (grant.endsWith('.*')) prefixes.push(grant.slice(0, -1))
    else exact.add(grant)
  }
  if (prefixes.length === 0) return (permission) => exact.has(permission)
  return (permission) => exact.has(permission) || prefixes.some((p) => permission.startsWith(p))
}
