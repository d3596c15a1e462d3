import { appendFileSync } from 'node:fs'

/**
 * Preloaded into the CLI processes tests spawn (see `runCli` in ./cli.ts): a process still alive
 * after `$FMESH_HANG_REPORT_MS` (default 8000) appends to the file `$FMESH_HANG_REPORT` what keeps
 * its event loop alive (`process.getActiveResourcesInfo()`), then again every 4 s. The timers are
 * unref'd, so they never hold the process; the report goes to a file, so a slow command's stdout and
 * stderr stay what the test parses. A file with no report for a killed command means its event loop
 * itself was blocked.
 */
const file = process.env.FMESH_HANG_REPORT
if (file !== undefined && file !== '') {
  const started = Date.now()
  const report = () =>
    appendFileSync(
      file,
      `pid ${process.pid} alive ${Date.now() - started} ms; active: ${process.getActiveResourcesInfo().join(', ')}\n`,
    )
  setTimeout(
    () => {
      report()
      setInterval(report, 4000).unref()
    },
    Number(process.env.FMESH_HANG_REPORT_MS ?? 8000),
  ).unref()
}
