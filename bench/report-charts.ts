// Charts for the benches: Vega-Lite specs compiled to Vega, rendered to SVG by Vega's headless view, and to PNG by
// resvg (for viewing and for the README). One module so the RFC 2544 runner and the history report draw alike.
import * as fs from 'node:fs';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Writes `<base>.svg` and, when @resvg/resvg-js is installed, `<base>.png`; returns the paths written. */
export async function writeChart(base: string, spec: TopLevelSpec): Promise<string[]> {
  const svg = await renderSvg(spec);
  fs.writeFileSync(`${base}.svg`, svg);
  const out = [`${base}.svg`];
  try {
    const { Resvg } = await import('@resvg/resvg-js');
    const png = new Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: true } }).render().asPng();
    fs.writeFileSync(`${base}.png`, png);
    out.push(`${base}.png`);
  } catch { /* no PNG without resvg: the SVG is the chart */ }
  return out;
}

const base = { width: 420, height: 260, background: 'white', config: { font: 'DejaVu Sans', axis: { labelFontSize: 11, titleFontSize: 12 } } } as const;

export interface ThroughputRow { dut: string; size: number; mpps: number; gbps: number; generatorBound: boolean }

/** Zero-loss throughput by frame size, one bar per DUT side by side. */
export function throughputSpec(rows: ThroughputRow[], title: string): TopLevelSpec {
  return {
    ...base, title, data: { values: rows },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      x: { field: 'size', type: 'ordinal', title: 'frame size (bytes, with FCS)' },
      xOffset: { field: 'dut' },
      y: { field: 'mpps', type: 'quantitative', title: 'throughput at the loss threshold (Mpps)' },
      color: { field: 'dut', type: 'nominal', title: 'device under test' },
      // a pale bar: the generator could not offer more, so the DUT was not the limit
      opacity: { field: 'generatorBound', type: 'ordinal', sort: [false, true], title: 'generator-bound', scale: { domain: [false, true], range: [1, 0.45] } },
    },
  } as TopLevelSpec;
}

export interface LatencyRow { dut: string; size: number; stat: string; us: number }

/** Latency percentiles at the throughput rate: one panel per frame size, bars per percentile, DUTs side by side. */
export function latencySpec(rows: LatencyRow[], title: string): TopLevelSpec {
  return {
    title, background: 'white', data: { values: rows }, config: base.config,
    facet: { column: { field: 'size', type: 'ordinal', title: 'frame size (bytes, with FCS)' } },
    spec: {
      width: 220, height: 260,
      // points, not bars: a bar on a log scale has no zero to start from
      mark: { type: 'point', filled: true, size: 90, tooltip: true },
      encoding: {
        x: { field: 'stat', type: 'ordinal', title: 'percentile', sort: ['p50', 'p99', 'p99.9', 'max'] },
        xOffset: { field: 'dut' },
        y: { field: 'us', type: 'quantitative', title: 'latency (µs, log scale)', scale: { type: 'log' } },
        color: { field: 'dut', type: 'nominal', title: 'device under test' },
        shape: { field: 'dut', type: 'nominal', title: 'device under test' },
      },
    },
  } as TopLevelSpec;
}

export interface LossRow { dut: string; size: number; offeredPct: number; lossPct: number }

/** Frame-loss rate against offered load (percent of the maximum rate), one line per DUT and frame size. */
export function lossSpec(rows: LossRow[], title: string): TopLevelSpec {
  return {
    ...base, title, data: { values: rows.map((r) => ({ ...r, series: `${r.dut} ${r.size} B` })) },
    mark: { type: 'line', point: { filled: true, size: 70 }, tooltip: true },
    encoding: {
      x: { field: 'offeredPct', type: 'quantitative', title: 'offered load (% of the maximum rate)', scale: { domain: [0, 100] } },
      y: { field: 'lossPct', type: 'quantitative', title: 'frame loss (%)' },
      color: { field: 'dut', type: 'nominal', title: 'device under test' },
      // the frame size: a dash pattern on the line and a point shape (the shape is what the legend can show)
      strokeDash: { field: 'size', type: 'nominal', legend: null },
      shape: { field: 'size', type: 'nominal', title: 'frame size (B)' },
      detail: { field: 'series' },
    },
  } as TopLevelSpec;
}

export interface HistoryRow { scenario: string; commit: string; date: string; value: number; metric: string }

/** One small chart per bench scenario: its ratio to DPDK (or Mpps when it has no DPDK side) per commit. */
export function historySpec(rows: HistoryRow[], title: string): TopLevelSpec {
  return {
    title, background: 'white', data: { values: rows },
    facet: { field: 'scenario', type: 'nominal', title: 'bench scenario' },
    columns: 3,
    spec: {
      width: 260, height: 150,
      mark: { type: 'line', point: true, tooltip: true },
      encoding: {
        x: { field: 'commit', type: 'ordinal', title: 'commit (in the order they ran)', sort: { field: 'date', op: 'min' } },
        y: { field: 'value', type: 'quantitative', title: 'pktio / DPDK (or Mpps)' },
        color: { field: 'metric', type: 'nominal', title: 'metric' },
        tooltip: [{ field: 'commit' }, { field: 'date' }, { field: 'value', format: '.3f' }, { field: 'metric' }],
      },
    },
    resolve: { scale: { x: 'independent', y: 'independent' } },
    config: { font: 'DejaVu Sans' },
  } as TopLevelSpec;
}
