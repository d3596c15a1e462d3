/** Where a record lives in the registry's UnixFS tree: `<namespace>/<path segments>.json`. */
export function recordSegments(name: string): string[] {
  const parts = name.split('/')
  const last = parts.length - 1
  parts[last] = `${parts[last]}.json`
  return parts
}

/** The record name of a file at `segments` in the tree, or undefined for a file that holds no record. */
export function nameOfSegments(segments: readonly string[]): string | undefined {
  const last = segments.at(-1)
  if (segments.length < 2 || last === undefined || !last.endsWith('.json')) return undefined
  return [...segments.slice(0, -1), last.slice(0, -'.json'.length)].join('/')
}
