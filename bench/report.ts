#!/usr/bin/env node
// npm run bench:report: the history of every bench scenario on one page. Reads the records bench/run.ts and the
// RFC 2544 runner wrote to bench/results/ (one JSON file per run), finds the commit each ran on (the last commit
// before the run's date, from git log), and draws per scenario pktio's ratio to DPDK (or Mpps where a scenario has
// no DPDK side; RFC 2544 runs: zero-loss Mpps per DUT and frame size) against run time.
//
//   npm run bench:report [-- --dir bench/results] [--out bench/results/report]   writes report.svg/.png and report.html
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { repoRoot } from './common.js';
import { writeChart, historySpec, type HistoryRow } from './report-charts.js';

interface BenchRecord { scenario?: string; kind?: string; ratio?: number | null; mpps?: number | null; date?: string; commit?: string; size?: number; results?: Record<string, Array<{ size: number; throughput?: { mpps: number } }>> }

/** Commits with their dates, newest first, for "which commit was HEAD when this ran". */
function commitsByDate(): Array<{ hash: string; t: number }> {
  const r = spawnSync('git', ['-C', repoRoot, 'log', '--format=%h %cI'], { encoding: 'utf8' });
  if (r.status !== 0) return [];
  return r.stdout.trim().split('\n').map((l) => { const [hash, d] = l.split(' '); return { hash, t: Date.parse(d) }; });
}

function commitAt(commits: Array<{ hash: string; t: number }>, date: string): string {
  const t = Date.parse(date);
  return commits.find((c) => c.t <= t)?.hash ?? 'unknown';
}

/** The rows one record contributes. */
export function rowsOf(rec: BenchRecord, commit: string): HistoryRow[] {
  const date = rec.date ?? '';
  if (rec.kind === 'rfc2544' && rec.results) {
    return Object.entries(rec.results).flatMap(([dut, sizes]) => sizes.filter((s) => s.throughput).map((s) => ({
      scenario: `rfc2544 ${s.size} B`, commit, date, value: s.throughput!.mpps, metric: `${dut} Mpps`,
    })));
  }
  if (!rec.scenario) return [];
  const scenario = rec.size && rec.size !== 64 ? `${rec.scenario} ${rec.size} B` : rec.scenario;
  if (typeof rec.ratio === 'number') return [{ scenario, commit, date, value: rec.ratio, metric: 'pktio / DPDK' }];
  if (typeof rec.mpps === 'number') return [{ scenario, commit, date, value: rec.mpps, metric: 'pktio Mpps' }];
  return [];
}

export async function main(argv: string[]): Promise<number> {
  let dir = path.join(repoRoot, 'bench', 'results');
  let out = '';
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--dir') dir = path.resolve(argv[++i] ?? '.');
    else if (argv[i] === '--out') out = path.resolve(argv[++i] ?? '.');
    else {
      process.stderr.write(`bench:report: unknown option '${argv[i]}': npm run bench:report [-- --dir DIR] [--out BASE]\n`);
      return 1;
    }
  }
  out ||= path.join(dir, 'report');
  if (!fs.existsSync(dir)) {
    process.stderr.write(`bench:report: no results in ${dir}: run a bench first (npm run bench -- memif, npm run rfc2544)\n`);
    return 1;
  }
  const commits = commitsByDate();
  const rows: HistoryRow[] = [];
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    let rec: BenchRecord;
    try {
      rec = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as BenchRecord;
    } catch {
      continue; // a run that was cut off mid-write
    }
    if (!rec.date) continue;
    rows.push(...rowsOf(rec, rec.commit ?? commitAt(commits, rec.date)));
  }
  // a scenario with a DPDK side is drawn as its ratio only (its runs without --vs-dpdk have no ratio)
  const withRatio = new Set(rows.filter((r) => r.metric === 'pktio / DPDK').map((r) => r.scenario));
  rows.splice(0, rows.length, ...rows.filter((r) => !withRatio.has(r.scenario) || r.metric === 'pktio / DPDK'));
  if (rows.length === 0) {
    process.stderr.write(`bench:report: no bench records in ${dir}: run a bench first (npm run bench -- memif, npm run rfc2544)\n`);
    return 1;
  }
  const files = await writeChart(out, historySpec(rows, `pktio bench history (${new Set(rows.map((r) => r.scenario)).size} scenarios, ${rows.length} runs)`));
  const img = path.basename(files[0]);
  fs.writeFileSync(`${out}.html`, `<!doctype html><meta charset="utf-8"><title>pktio bench history</title>\n<h1>pktio bench history</h1>\n` +
    `<p>Each point is one run in bench/results; the tooltip names the commit it ran on.</p>\n<img src="${img}" alt="bench history">\n`);
  const shown = [...files, `${out}.html`].map((f) => path.relative(process.cwd(), f));
  process.stdout.write(`bench:report: ${rows.length} points in ${new Set(rows.map((r) => r.scenario)).size} scenarios: ${shown.join(', ')}\n`);
  return 0;
}

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  process.exitCode = await main(process.argv.slice(2));
}
