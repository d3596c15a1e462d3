import { describe, expect, it } from 'vitest'
import { ProgressLine, syncDetail, syncProgress } from '../../src/cli/_progress.js'
import type { RegistrySyncProgressEvent } from '../../src/registry/syncProgress.js'

/** A terminal stand-in (or a pipe, with isTTY false) that keeps what was written. */
function stream(isTTY: boolean) {
  const written: string[] = []
  return { isTTY, written, write: (text: string) => written.push(text) }
}
const ERASE = '\r\u001b[2K'
const sync = (phase: string, loaded = 0, total?: number): RegistrySyncProgressEvent => ({
  type: 'mesh:registry:sync',
  registry: 'git',
  phase,
  loaded,
  ...(total === undefined ? {} : { total }),
})

describe('CLI progress lines (driven by events and an injected clock, never by timing)', () => {
  it('draws nothing in the first second, then the label, elapsed time and deadline, and erases when done', () => {
    let now = 10_000
    const tty = stream(true)
    const line = new ProgressLine('calling acme.com/slow/hang', {
      json: false,
      deadlineMs: 30_000,
      stream: tty,
      now: () => now,
      ticks: false,
    })
    now += 900
    line.draw()
    expect(tty.written).toEqual([])
    now += 600
    line.draw()
    expect(tty.written).toEqual([`${ERASE}calling acme.com/slow/hang… 1.5 s of 30 s`])
    line.stop()
    expect(tty.written.at(-1)).toBe(ERASE)
    now += 1000
    line.draw()
    expect(tty.written).toHaveLength(2)
  })

  it("shows a registry sync's phase as a bar with counts, and drops it when the sync is done", () => {
    let now = 0
    const tty = stream(true)
    const line = new ProgressLine('starting the peer node', {
      json: false,
      stream: tty,
      now: () => now,
      ticks: false,
    })
    now = 1200
    line.onSync(sync('start'))
    line.onSync(sync('Receiving objects', 450, 1000))
    expect(tty.written.at(-1)).toBe(
      `${ERASE}starting the peer node… 1.2 s  git: Receiving objects [#########-----------]  45% (450/1000)`,
    )
    line.onSync(sync('done'))
    expect(tty.written.at(-1)).toBe(`${ERASE}starting the peer node… 1.2 s`)
  })

  it('error-free when not a terminal or with --json: nothing is ever written', () => {
    for (const [isTTY, json] of [
      [false, false],
      [true, true],
    ] as const) {
      let now = 0
      const out = stream(isTTY)
      const line = new ProgressLine('x', { json, stream: out, now: () => now, ticks: false })
      now = 5000
      line.draw()
      line.onSync(sync('Receiving objects', 1, 2))
      line.stop()
      const bar = syncProgress({ json, stream: out, now: () => now, ticks: false })
      bar(sync('start'))
      now = 9000
      bar(sync('Receiving objects', 1, 2))
      bar(sync('done'))
      expect([line.enabled, out.written]).toEqual([false, []])
    }
  })

  it('syncProgress: a quick sync shows nothing; a slow one a line per registry, erased on done', () => {
    let now = 0
    const tty = stream(true)
    const onSync = syncProgress({ json: false, stream: tty, now: () => now, ticks: false })
    onSync(sync('start'))
    now = 300
    onSync(sync('Receiving objects', 5, 10))
    onSync(sync('done'))
    expect(tty.written).toEqual([])
    onSync(sync('start'))
    now = 1800
    onSync(sync('Resolving deltas', 3))
    onSync(sync('Receiving objects', 10, 10))
    onSync(sync('done'))
    expect(tty.written).toEqual([
      `${ERASE}syncing git… 1.5 s  git: Resolving deltas 3`,
      `${ERASE}syncing git… 1.5 s  git: Receiving objects [####################] 100% (10/10)`,
      ERASE,
    ])
  })

  it('syncDetail: a phase without a total shows its count only', () => {
    expect(syncDetail(sync('Counting objects'))).toBe('git: Counting objects')
    expect(syncDetail(sync('Counting objects', 12))).toBe('git: Counting objects 12')
    expect(syncDetail(sync('Receiving objects', 0, 4))).toBe(
      'git: Receiving objects [--------------------]   0% (0/4)',
    )
  })
})
