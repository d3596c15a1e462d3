import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git'
import nodeHttp from 'isomorphic-git/http/node'

/**
 * isomorphic-git's Node HTTP client, with every request bound to the operation's AbortSignal and to
 * a deadline, so a dead server fails a sync instead of hanging it.
 */
export function boundHttpClient(signal: AbortSignal | undefined, timeoutMs: number): HttpClient {
  return {
    request(request: GitHttpRequest): Promise<GitHttpResponse> {
      const deadline = AbortSignal.timeout(timeoutMs)
      const bound = signal === undefined ? deadline : AbortSignal.any([signal, deadline])
      return nodeHttp.request({ ...request, signal: bound })
    },
  }
}
