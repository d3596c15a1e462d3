/**
 * A one-line progress note on stderr for work that may take over a second (`calling x… 3.2 s of
 * 30 s`): shown only on a terminal and never with --json, redrawn in place, erased when done.
 */
export function progress(
  label: string,
  options: { json: boolean; deadlineMs?: number | undefined },
): () => void {
  const stderr = process.stderr
  if (options.json || stderr.isTTY !== true) return () => {}
  const started = Date.now()
  let shown = false
  const draw = () => {
    const elapsed = ((Date.now() - started) / 1000).toFixed(1)
    const of = options.deadlineMs === undefined ? '' : ` of ${(options.deadlineMs / 1000).toFixed(0)} s`
    stderr.write(`\r\u001b[2K${label}… ${elapsed} s${of}`)
    shown = true
  }
  const first = setTimeout(() => {
    draw()
    timer.ref()
  }, 1000)
  const timer = setInterval(() => shown && draw(), 250)
  first.unref()
  timer.unref()
  return () => {
    clearTimeout(first)
    clearInterval(timer)
    if (shown) stderr.write('\r\u001b[2K')
  }
}
