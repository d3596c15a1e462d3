import { lineChart } from './_svg.js'

/**
 * One row of the results table: a figure, optionally beside the baseline it was measured against in
 * the same run, optionally checked against a target. Benchmarks report; they never fail the build.
 */
export interface Row {
  /** The bench file (or a part of it) that measured the row. */
  group: string
  name: string
  value: number
  unit: string
  /** Median time of one operation, in microseconds. */
  medianUs?: number
  /** 99th percentile of the per-operation time across measured batches, in microseconds. */
  p99Us?: number
  baseline?: string
  baselineValue?: number
  /** subject / baseline, as the bench states it (throughput: above 1 is faster). */
  ratio?: number
  /** The goal, as `>= N` or `<= N`, in the row's unit. */
  target?: { goal: number; higherIsBetter: boolean }
  met?: boolean
  /** What was measured, when the name alone does not say it. */
  note?: string
  /** Set when the bench threw or timed out: the row stands for the failure. */
  error?: string
}

/** One series of a scaling chart, by chart id. */
export interface ChartPoint {
  chart: string
  title: string
  xLabel: string
  yLabel: string
  logY?: boolean
  series: string
  x: number
  y: number
}

export interface MachineInfo {
  node: string
  platform: string
  cpus: number
  cpuModel: string
  totalMemMiB: number
  loadAverageStart: number[]
  loadAverageEnd: number[]
  commit: string
  date: string
}

export interface BenchRun {
  machine: MachineInfo
  quick: boolean
  filter: string[]
  /** Wall time of the whole run, in seconds. */
  durationSec: number
  /** Each bench file's wall time in seconds and whether it finished. */
  files: { file: string; seconds: number; ok: boolean }[]
  rows: Row[]
  charts: ChartPoint[]
}

const num = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 })
const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })

/** A number for a table cell: 3 significant figures below 100, whole numbers above. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value)
  const abs = Math.abs(value)
  if (abs >= 100) return int.format(value)
  if (abs >= 1) return num.format(Number(value.toPrecision(3)))
  if (abs === 0) return '0'
  return String(Number(value.toPrecision(3)))
}

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ')

function targetText(row: Row): string {
  if (row.target === undefined) return ''
  const op = row.target.higherIsBetter ? '>=' : '<='
  return `${op} ${formatNumber(row.target.goal)} ${row.met === true ? 'met' : 'NOT met'}`
}

/** The JSON document `bench-results.json` holds. */
export function toJson(run: BenchRun): string {
  return `${JSON.stringify(run, null, 2)}\n`
}

/**
 * The short Markdown table: every row with a ratio, a target or an error (the plain measurements are
 * in the JSON), grouped by bench file, after a line naming the machine and its load.
 */
export function toMarkdown(run: BenchRun): string {
  const m = run.machine
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ')
  const lines = [
    `Node ${m.node}, ${m.cpus} x ${m.cpuModel}, ${int.format(m.totalMemMiB)} MiB; commit ${m.commit}; ${m.date}; ` +
      `${run.quick ? '`--quick`, ' : ''}${int.format(run.durationSec)} s; load average ${load(m.loadAverageStart)} at the start, ${load(m.loadAverageEnd)} at the end.`,
    '',
    '| group | figure | value | median | p99 | baseline (same run) | ratio | target |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ]
  for (const row of run.rows) {
    if (row.ratio === undefined && row.target === undefined && row.error === undefined) continue
    const value = row.error !== undefined ? `FAILED: ${row.error}` : `${formatNumber(row.value)} ${row.unit}`
    const baseline =
      row.baseline === undefined
        ? ''
        : `${row.baseline}${row.baselineValue === undefined ? '' : ` (${formatNumber(row.baselineValue)})`}`
    lines.push(
      `| ${cell(row.group)} | ${cell(row.name)} | ${cell(value)} | ${row.medianUs === undefined ? '' : `${formatNumber(row.medianUs)} us`} | ${row.p99Us === undefined ? '' : `${formatNumber(row.p99Us)} us`} | ${cell(baseline)} | ${row.ratio === undefined ? '' : `${formatNumber(row.ratio)}x`} | ${targetText(row)} |`,
    )
  }
  return `${lines.join('\n')}\n`
}

/** One SVG per chart id, from the points the scale benches recorded. */
export function toSvgCharts(points: readonly ChartPoint[]): Map<string, string> {
  const byChart = new Map<string, ChartPoint[]>()
  for (const p of points) {
    const list = byChart.get(p.chart) ?? []
    list.push(p)
    byChart.set(p.chart, list)
  }
  const out = new Map<string, string>()
  for (const [id, list] of byChart) {
    const first = list[0]!
    const series = new Map<string, { x: number; y: number }[]>()
    for (const p of list) {
      const s = series.get(p.series) ?? []
      s.push({ x: p.x, y: p.y })
      series.set(p.series, s)
    }
    out.set(
      id,
      lineChart({
        title: first.title,
        xLabel: first.xLabel,
        yLabel: first.yLabel,
        logY: first.logY === true,
        series: [...series].map(([name, pts]) => ({ name, points: pts.sort((a, b) => a.x - b.x) })),
      }),
    )
  }
  return out
}
