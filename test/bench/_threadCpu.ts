import { readFileSync } from 'node:fs'

/** CPU time so far, ms: the main thread's, and the whole process's (every thread). */
export interface ThreadCpu {
  main: number
  all: number
}

/**
 * The main thread's CPU time beside the process's, so a bench with its load generator in a worker
 * thread can tell the server's share (the main thread) from the generator's and V8's helper threads'
 * (the rest). Linux only (`/proc/self/task/<pid>/stat`, in clock ticks of 10 ms); `undefined` elsewhere.
 */
export function threadCpu(): ThreadCpu | undefined {
  let stat: string
  try {
    stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // Fields after the parenthesised command name: state is the 3rd field, utime the 14th, stime the 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const main = (Number(fields[11]) + Number(fields[12])) * 10
  const usage = process.cpuUsage()
  return { main, all: (usage.user + usage.system) / 1000 }
}

/** CPU per operation between two readings, microseconds: the main thread's and the other threads'. */
export function cpuPerOp(
  before: ThreadCpu | undefined,
  after: ThreadCpu | undefined,
  ops: number,
): { main: number; others: number } | undefined {
  if (before === undefined || after === undefined || ops <= 0) return undefined
  const main = after.main - before.main
  const all = after.all - before.all
  return { main: (main * 1000) / ops, others: (Math.max(0, all - main) * 1000) / ops }
}
