import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** Runs the system `git` with a fixed identity and no user or system config; returns stdout. */
export async function systemGit(args: readonly string[], cwd?: string): Promise<string> {
  const { stdout } = await run('git', [...args], {
    ...(cwd === undefined ? {} : { cwd }),
    maxBuffer: 256 * 1024 * 1024,
    env: {
      PATH: process.env.PATH,
      HOME: cwd ?? process.cwd(),
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_NAME: 'Test Operator',
      GIT_AUTHOR_EMAIL: 'operator@example.test',
      GIT_COMMITTER_NAME: 'Test Operator',
      GIT_COMMITTER_EMAIL: 'operator@example.test',
      GIT_TERMINAL_PROMPT: '0',
    },
  })
  return stdout
}
