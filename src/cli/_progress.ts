import type { RegistrySyncProgressEvent } from '../registry/syncProgress.js'

/** Where a progress line is drawn: stderr, or a test's stand-in (`isTTY` decides whether it draws). */
export interface ProgressStream {
  readonly isTTY?: boolean
  write(text: string): unknown
}

export interface ProgressOptions {
  /** With --json nothing is drawn: stderr carries one JSON document. */
  json: boolean
  /** Shown as `of N s` after the elapsed time. */
  deadlineMs?: number | undefined
  /** @default process.stderr */
  stream?: ProgressStream
  /** @default Date.now */
  now?: () => number
  /** Redraw every 250 ms (the elapsed time moves with no event). Tests pass false and call `draw`. @default true */
  ticks?: boolean
}

/** Work shorter than this shows no progress at all. */
const SHOW_AFTER_MS = 1000
const BAR_WIDTH = 20

/** `Receiving objects [#########-----------]  45% (450/1000)`, or the phase and count when the total is unknown. */
export function syncDetail(event: RegistrySyncProgressEvent): string {
  if (event.total === undefined || event.total <= 0)
    return `${event.registry}: ${event.phase}${event.loaded > 0 ? ` ${event.loaded}` : ''}`
  const share = Math.min(1, event.loaded / event.total)
  const filled = Math.round(share * BAR_WIDTH)
  const bar = `${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}`
  const percent = `${Math.floor(share * 100)}%`.padStart(4)
  return `${event.registry}: ${event.phase} [${bar}] ${percent} (${event.loaded}/${event.total})`
}

/**
 * One progress line on stderr for work that may take over a second (`calling x… 3.2 s of 30 s`,
 * `starting the peer node… 1.4 s  git: Receiving objects [####----] 45% (450/1000)`): drawn only on
 * a terminal and never with --json, only once the work has run a second, redrawn in place, erased
 * when done. Registry syncs feed it through {@link onSync} (their typed progress events).
 */
export class ProgressLine {
  readonly enabled: boolean
  private readonly stream: ProgressStream
  private readonly now: () => number
  private readonly started: number
  private detail = ''
  private shown = false
  private stopped = false
  private timer: ReturnType<typeof setInterval> | undefined

  constructor(
    private label: string,
    private readonly options: ProgressOptions,
  ) {
    this.stream = options.stream ?? process.stderr
    this.now = options.now ?? Date.now
    this.started = this.now()
    this.enabled = !options.json && this.stream.isTTY === true
    if (this.enabled && options.ticks !== false) {
      this.timer = setInterval(() => this.draw(), 250)
      this.timer.unref()
    }
  }

  /** A registry sync's event: its phase becomes the line's detail; `done` clears it. */
  readonly onSync = (event: RegistrySyncProgressEvent): void => {
    if (event.phase === 'start' || event.phase === 'done') this.detail = ''
    else this.detail = syncDetail(event)
    this.draw()
  }

  /** Changes what the line says is going on. */
  relabel(label: string): void {
    this.label = label
    this.draw()
  }

  /** The text of the line as it would be drawn now. */
  text(): string {
    const elapsed = ((this.now() - this.started) / 1000).toFixed(1)
    const deadline = this.options.deadlineMs
    const of = deadline === undefined ? '' : ` of ${(deadline / 1000).toFixed(0)} s`
    return `${this.label}… ${elapsed} s${of}${this.detail === '' ? '' : `  ${this.detail}`}`
  }

  /** Draws the line in place, once the work has run for a second (and only on a terminal). */
  draw(): void {
    if (!this.enabled || this.stopped || this.now() - this.started < SHOW_AFTER_MS) return
    this.stream.write(`\r\u001b[2K${this.text()}`)
    this.shown = true
  }

  /** Stops drawing (later events draw nothing) and erases the line if it was drawn. */
  stop(): void {
    this.stopped = true
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    if (this.shown) this.stream.write('\r\u001b[2K')
    this.shown = false
  }
}

/** A progress line for `label` that draws itself until the returned function is called. */
export function progress(label: string, options: ProgressOptions): () => void {
  const line = new ProgressLine(label, options)
  return () => line.stop()
}

/**
 * For a command's registries: a progress line per sync with a remote (a Git clone or fetch), made
 * on its `start` event and erased on `done`, so quick syncs show nothing and slow ones a bar.
 */
export function syncProgress(options: ProgressOptions): (event: RegistrySyncProgressEvent) => void {
  if (options.json || (options.stream ?? process.stderr).isTTY !== true) return () => {}
  const lines = new Map<string, ProgressLine>()
  return (event) => {
    let line = lines.get(event.registry)
    if (event.phase === 'start') {
      line?.stop()
      line = new ProgressLine(`syncing ${event.registry}`, options)
      lines.set(event.registry, line)
    }
    if (event.phase === 'done') {
      line?.stop()
      lines.delete(event.registry)
    } else line?.onSync(event)
  }
}
