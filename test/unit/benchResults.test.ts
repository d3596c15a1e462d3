import { describe, expect, it } from 'vitest'
import { ratioFromLine } from '../bench/_capture.js'
import { type BenchRun, formatNumber, toJson, toMarkdown, toSvgCharts } from '../bench/_results.js'

function run(): BenchRun {
  return {
    machine: {
      node: 'v20.0.0',
      platform: 'linux x64',
      cpus: 2,
      cpuModel: 'Test CPU',
      totalMemMiB: 4096,
      loadAverageStart: [0.5, 0.4, 0.3],
      loadAverageEnd: [1.25, 0.5, 0.25],
      commit: 'abc123',
      date: '2026-12-01T00:00:00.000Z',
    },
    quick: true,
    filter: [],
    durationSec: 61.2,
    files: [{ file: 'resolve.bench.ts', seconds: 12, ok: true }],
    rows: [
      { group: 'resolve', name: 'baseline Map.get', value: 5e7, unit: 'ops/s', medianUs: 0.02, p99Us: 0.04 },
      {
        group: 'resolve',
        name: 'warm resolve / Map.get',
        value: 2.5e6,
        unit: 'ops/s',
        medianUs: 0.4,
        p99Us: 1.5,
        baseline: 'baseline Map.get',
        baselineValue: 5e7,
        ratio: 0.05,
      },
      {
        group: 'resolve',
        name: 'target: warm resolve',
        value: 2.5e6,
        unit: 'ops/s',
        target: { goal: 1e6, higherIsBetter: true },
        met: true,
      },
      { group: 'peer', name: 'peer: threw', value: Number.NaN, unit: '', error: 'E_PEER_DIAL | reset' },
    ],
    charts: [
      {
        chart: 'scale-resolve',
        title: 'Warm <resolve>',
        xLabel: 'names',
        yLabel: 'ops/s',
        logY: true,
        series: 'resolve',
        x: 1e6,
        y: 9e5,
      },
      {
        chart: 'scale-resolve',
        title: 'Warm <resolve>',
        xLabel: 'names',
        yLabel: 'ops/s',
        logY: true,
        series: 'resolve',
        x: 1e3,
        y: 2e6,
      },
      {
        chart: 'scale-resolve',
        title: 'Warm <resolve>',
        xLabel: 'names',
        yLabel: 'ops/s',
        logY: true,
        series: 'Map.get',
        x: 1e3,
        y: 5e7,
      },
      {
        chart: 'scale-memory',
        title: 'Memory',
        xLabel: 'records',
        yLabel: 'bytes',
        series: 'cache',
        x: 1e3,
        y: 900,
      },
    ],
  }
}

describe('bench results writer', () => {
  it('writes every row and the machine into the JSON document', () => {
    const parsed = JSON.parse(toJson(run()))
    expect(parsed.rows).toHaveLength(4)
    expect(parsed.rows[1]).toMatchObject({ baseline: 'baseline Map.get', ratio: 0.05, p99Us: 1.5 })
    expect(parsed.machine).toMatchObject({ cpus: 2, commit: 'abc123', loadAverageEnd: [1.25, 0.5, 0.25] })
    expect(parsed.rows[3].value).toBeNull() // NaN is not JSON: a failed row's value reads as null
  })

  it('keeps ratio, target and error rows in the Markdown table, with the load it ran under', () => {
    const md = toMarkdown(run())
    const lines = md.trim().split('\n')
    expect(lines[0]).toContain('load average 0.50 0.40 0.30 at the start, 1.25 0.50 0.25 at the end')
    expect(lines[0]).toContain('`--quick`')
    expect(lines[2]).toBe('| group | figure | value | median | p99 | baseline (same run) | ratio | target |')
    const body = lines.slice(4)
    expect(body).toHaveLength(3) // the plain measurement is in the JSON only
    expect(body[0]).toBe(
      '| resolve | warm resolve / Map.get | 2,500,000 ops/s | 0.4 us | 1.5 us | baseline Map.get (50,000,000) | 0.05x |  |',
    )
    expect(body[1]).toContain('| >= 1,000,000 met |')
    expect(body[2]).toContain('FAILED: E_PEER_DIAL \\| reset') // a pipe in a cell is escaped
    for (const line of body) expect(line.split(/(?<!\\)\|/)).toHaveLength(10)
  })

  it('draws one SVG per chart with a line per series, points in x order, text escaped', () => {
    const charts = toSvgCharts(run().charts)
    expect([...charts.keys()]).toEqual(['scale-resolve', 'scale-memory'])
    const svg = charts.get('scale-resolve')!
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
    expect(svg.trim().endsWith('</svg>')).toBe(true)
    expect(svg).toContain('Warm &lt;resolve&gt;')
    expect(svg.match(/<polyline /g)).toHaveLength(1) // Map.get has one point: a dot, no line
    expect(svg.match(/<circle /g)).toHaveLength(3)
    const xs = /points="([^"]+)"/
      .exec(svg)![1]!
      .split(' ')
      .map((p) => Number(p.split(',')[0]))
    expect(xs[0]).toBeLessThan(xs[1]!)
    expect(svg).not.toMatch(/NaN|Infinity|<script/)
  })

  it('reads a ratio a bench printed itself', () => {
    expect(ratioFromLine('  ratio p95 propagation / raw gossipsub (3 nodes) 1.770x')).toMatchObject({
      name: 'p95 propagation / raw gossipsub (3 nodes)',
      value: 1.77,
      unit: 'x',
    })
    expect(
      ratioFromLine(
        '  cold resolve through a fresh mesh: median 3.10 ms; raw lookup eth_call 2.02 ms; ratio 1.53x',
      ),
    ).toMatchObject({
      name: 'cold resolve through a fresh mesh: median 3.10 ms; raw lookup eth_call 2.02 ms',
      value: 1.53,
    })
    expect(ratioFromLine('  ratio gateway resolve vs bare node:http (median of rounds): 0.567x')?.value).toBe(
      0.567,
    )
    expect(ratioFromLine('  propagation to 3 nodes: p50 1.2 ms')).toBeUndefined()
  })

  it('formats numbers for cells: whole above 100, three figures below', () => {
    expect(formatNumber(12_345.6)).toBe('12,346')
    expect(formatNumber(1.23456)).toBe('1.23')
    expect(formatNumber(0.012345)).toBe('0.0123')
    expect(formatNumber(0)).toBe('0')
  })
})
