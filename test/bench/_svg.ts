/** A line chart with a log-scale x axis (record counts), drawn as plain SVG text. */
export interface LineChart {
  title: string
  xLabel: string
  yLabel: string
  /** Log-scale y axis too (for figures spanning orders of magnitude). @default false */
  logY?: boolean
  series: { name: string; points: { x: number; y: number }[] }[]
}

const W = 640
const H = 360
const PAD = { left: 78, right: 170, top: 40, bottom: 52 }
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf']

const esc = (s: string) =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;')

function short(v: number): string {
  const abs = Math.abs(v)
  if (abs >= 1e9) return `${+(v / 1e9).toPrecision(3)}G`
  if (abs >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`
  if (abs >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`
  if (abs === 0) return '0'
  return String(+v.toPrecision(3))
}

/** Renders `chart` as a standalone SVG document (no scripts, no external references). */
export function lineChart(chart: LineChart): string {
  const points = chart.series
    .flatMap((s) => s.points)
    .filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y))
  const xs = points.map((p) => Math.log10(Math.max(p.x, 1e-12)))
  const ty = (y: number) => (chart.logY === true ? Math.log10(Math.max(y, 1e-12)) : y)
  const ys = points.map((p) => ty(p.y))
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)]
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)]
  if (chart.logY !== true) y0 = Math.min(0, y0)
  if (!(x1 > x0)) [x0, x1] = [x0 - 0.5, x0 + 0.5]
  if (!(y1 > y0)) [y0, y1] = [y0 - 1, y0 + 1]
  y1 += (y1 - y0) * 0.05
  const pw = W - PAD.left - PAD.right
  const ph = H - PAD.top - PAD.bottom
  const sx = (x: number) => PAD.left + ((Math.log10(Math.max(x, 1e-12)) - x0) / (x1 - x0)) * pw
  const sy = (y: number) => PAD.top + ph - ((ty(y) - y0) / (y1 - y0)) * ph
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2 - PAD.right / 2}" y="20" text-anchor="middle" font-size="13" font-weight="bold">${esc(chart.title)}</text>`,
  ]
  for (let e = Math.ceil(x0); e <= Math.floor(x1); e++) {
    const x = sx(10 ** e)
    out.push(
      `<line x1="${x}" y1="${PAD.top}" x2="${x}" y2="${PAD.top + ph}" stroke="#eee"/>`,
      `<text x="${x}" y="${PAD.top + ph + 16}" text-anchor="middle">${short(10 ** e)}</text>`,
    )
  }
  for (let k = 0; k <= 4; k++) {
    const v = y0 + ((y1 - y0) * k) / 4
    const y = PAD.top + ph - (ph * k) / 4
    const label = chart.logY === true ? short(10 ** v) : short(v)
    out.push(
      `<line x1="${PAD.left}" y1="${y}" x2="${PAD.left + pw}" y2="${y}" stroke="#eee"/>`,
      `<text x="${PAD.left - 6}" y="${y + 4}" text-anchor="end">${label}</text>`,
    )
  }
  out.push(
    `<line x1="${PAD.left}" y1="${PAD.top + ph}" x2="${PAD.left + pw}" y2="${PAD.top + ph}" stroke="#333"/>`,
    `<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${PAD.top + ph}" stroke="#333"/>`,
    `<text x="${PAD.left + pw / 2}" y="${H - 14}" text-anchor="middle">${esc(chart.xLabel)}</text>`,
    `<text x="16" y="${PAD.top + ph / 2}" text-anchor="middle" transform="rotate(-90 16 ${PAD.top + ph / 2})">${esc(chart.yLabel)}</text>`,
  )
  chart.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!
    const pts = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y))
    if (pts.length > 1)
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ')}"/>`,
      )
    for (const p of pts)
      out.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3" fill="${color}"/>`)
    const ly = PAD.top + 8 + i * 18
    out.push(
      `<rect x="${W - PAD.right + 12}" y="${ly - 8}" width="12" height="12" fill="${color}"/>`,
      `<text x="${W - PAD.right + 30}" y="${ly + 2}">${esc(s.name)}</text>`,
    )
  })
  out.push('</svg>')
  return `${out.join('\n')}\n`
}
