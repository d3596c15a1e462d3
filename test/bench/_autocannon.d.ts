// The part of autocannon's programmatic API the gateway bench uses (the package ships no types).
declare module 'autocannon' {
  interface Stats {
    average: number
    mean: number
    stddev: number
    min: number
    max: number
    total: number
    p50: number
    p90: number
    p99: number
  }
  interface Result {
    requests: Stats
    latency: Stats
    throughput: Stats
    errors: number
    timeouts: number
    non2xx: number
    '2xx': number
    duration: number
  }
  interface Options {
    url: string
    connections?: number
    duration?: number
    /** Requests to send; every one is awaited (then `duration` is ignored). */
    amount?: number
    pipelining?: number
    workers?: number
    method?: 'GET' | 'POST'
    headers?: Record<string, string>
    body?: string
  }
  function autocannon(options: Options): Promise<Result>

  export type { Options, Result }
  export default autocannon
}
