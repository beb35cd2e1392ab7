// index.html: a self-contained page (Chart.js inlined, no network) with one log-log chart per workload
// (latency of every network/engine, the cost model's FLOPs on a second axis, and the PyTorch reference
// as a labelled anchor from another machine), followed by the markdown report's main tables.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { isTargetRatio } from './derive.js';
import { fmtGflop, fmtMiB, fmtMs, fmtNum, fmtTokens } from './format.js';
import { describeCrossover, engineLine, settleSentence } from './report-md.js';
import type { BenchResults } from './schema.js';

/** The Chart.js UMD bundle from node_modules (chart.js does not export it, so it is found beside its main). */
export function chartJsSource(): string {
  const require = createRequire(import.meta.url);
  const dist = dirname(require.resolve('chart.js'));
  return readFileSync(join(dist, 'chart.umd.min.js'), 'utf8');
}

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function table(head: string[], rows: string[][]): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** Browser-side code: draws one chart per workload from the embedded data. */
const PAGE_SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById('bench-data').textContent);
  var hue = { 'wfm-block': 215, 'wfm-tiny': 215, 'attn-block': 2, 'deit-tiny': 2 };
  var dashes = { cpu: [], 'ort-node': [8, 4], 'ort-web': [2, 3] };
  var engines = data.config.engines;
  function colour(model, engine, alpha) {
    var i = Math.max(0, engines.indexOf(engine));
    return 'hsla(' + hue[model] + ', ' + (75 - 12 * (i % 4)) + '%, ' + (34 + 11 * (i % 4)) + '%, ' + alpha + ')';
  }
  function tick(value) {
    var k = Math.floor(Math.log10(value) + 1e-9);
    var m = Math.round(value / Math.pow(10, k));
    if (m !== 1 && m !== 2 && m !== 5) return '';
    if (Math.abs(value - m * Math.pow(10, k)) > 1e-6 * value) return '';
    if (value >= 1e6) return value / 1e6 + 'M';
    if (value >= 1e3) return value / 1e3 + 'k';
    return String(value);
  }
  window.benchCharts = [];
  data.workloads.forEach(function (w) {
    var sets = [];
    w.models.forEach(function (model) {
      engines.forEach(function (engine) {
        var rows = data.rows.filter(function (r) {
          return r.purpose === 'sweep' && r.batch === 1 && r.model === model && r.engine === engine;
        }).sort(function (a, b) { return a.tokens - b.tokens; });
        if (!rows.length) return;
        var peer = rows[0].kind === 'peer';
        sets.push({
          label: model + ' · ' + engine + (peer ? ' (peer)' : ''),
          data: rows.map(function (r) { return { x: r.tokens, y: r.medianMs }; }),
          borderColor: colour(model, engine, 1), backgroundColor: colour(model, engine, 1),
          borderDash: dashes[engine] || [12, 3, 2, 3], yAxisID: 'ms', showLine: true, pointRadius: 3,
        });
      });
      data.analytic.filter(function (a) { return a.model === model; }).forEach(function (a) {
        sets.push({
          label: model + ' GFLOP (cost model)',
          data: a.points.map(function (p) { return { x: p.tokens, y: p.flops / 1e9 }; }),
          borderColor: colour(model, '', 0.45), backgroundColor: colour(model, '', 0.45),
          borderDash: [1, 3], borderWidth: 2, yAxisID: 'gflop', showLine: true, pointRadius: 0,
        });
      });
      data.anchors.filter(function (a) { return a.model === model; }).forEach(function (a) {
        sets.push({
          label: a.label + ' — another machine: shape only',
          data: a.points.map(function (p) { return { x: p.tokens, y: p.ms }; }),
          borderColor: 'hsla(' + hue[model] + ', 15%, 50%, 0.8)', backgroundColor: 'hsla(' + hue[model] + ', 15%, 50%, 0.8)',
          borderDash: [6, 2, 1, 2], borderWidth: 1.5, yAxisID: 'ms', showLine: true, pointRadius: 2,
          pointStyle: 'rectRot', hidden: !(a.device === 'cpu' && a.threads === 2),
        });
      });
    });
    var canvas = document.getElementById('chart-' + w.id);
    var chart = new Chart(canvas, {
      type: 'scatter',
      data: { datasets: sets },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        plugins: {
          title: { display: true, text: w.title },
          subtitle: { display: true, text: 'log-log; solid/dashed: latency (left axis), dotted: cost-model GFLOP (right axis); ' + data.machine.label },
          legend: { position: 'bottom' },
        },
        scales: {
          x: { type: 'logarithmic', title: { display: true, text: 'tokens' }, ticks: { callback: tick, autoSkip: false, maxRotation: 0 } },
          ms: { type: 'logarithmic', position: 'left', title: { display: true, text: 'latency (ms)' }, ticks: { callback: tick } },
          gflop: { type: 'logarithmic', position: 'right', title: { display: true, text: 'GFLOP per forward pass' }, ticks: { callback: tick }, grid: { drawOnChartArea: false } },
        },
      },
    });
    window.benchCharts.push(chart);
  });
  document.body.setAttribute('data-charts', String(window.benchCharts.length));
})();
`;

/** Renders the self-contained page. `chartJs` is the Chart.js UMD source (default: from node_modules). */
export function renderHtml(r: BenchResults, chartJs: string = chartJsSource()): string {
  const data = JSON.stringify(r).replace(/</g, '\\u003c');
  const safeChart = chartJs.replace(/<\/script/gi, '<\\/script');
  const charts = r.workloads
    .map(
      (w) =>
        `<section><h2>${esc(w.title)}</h2><div class="chart"><canvas id="chart-${esc(w.id)}" role="img" aria-label="${esc(w.title)}"></canvas></div></section>`,
    )
    .join('\n');
  const checks = r.checks.length
    ? `<h2>Checks (issue 5)</h2>${table(
        ['check', 'engine', 'on', 'value', 'limit', 'pass'],
        r.checks.map((c) => [
          c.name,
          c.engine,
          c.stat === 'cpu' ? 'CPU time' : `${c.stat} latency`,
          c.name.includes('crossover') ? fmtTokens(c.value) : fmtNum(c.value, 3),
          `${c.op} ${c.limit}`,
          c.pass ? 'yes' : 'no',
        ]),
      )}`
    : '';
  const interference = r.interference?.length
    ? `<h2>Alone and interleaved (WFM-T 224 px, batch 1)</h2>${table(
        ['engine', 'interleaved with', 'alone median ms', 'interleaved median ms', 'interleaved / alone'],
        r.interference.map((x) => [
          x.engine,
          x.with,
          fmtNum(x.aloneMedianMs, 3),
          fmtNum(x.interleavedMedianMs, 3),
          fmtNum(x.ratio, 3),
        ]),
      )}`
    : '';
  const b = r.browser;
  const browser = b
    ? `<h2>In the browser: WFM-T ${b.px} px, batch ${b.batch} (${esc(b.browser)}, headless)</h2>
<p>Isolated page: COOP/COEP headers (SharedArrayBuffer, threads); ordinary page: no headers. ${b.rounds} rounds of
${b.block} runs per engine in a row, pages alternating; errors against the float64 PyTorch fixture.</p>${table(
        ['page', 'engine', 'threads', 'what runs', 'median ms', 'min ms', 'runs', 'max abs err', 'top-1'],
        b.rows.map((x) => [
          x.page,
          x.engine,
          String(x.threads),
          x.detail,
          fmtNum(x.medianMs, 3),
          fmtNum(x.minMs, 3),
          String(x.runs),
          x.maxAbsErr.toExponential(1),
          x.top1 ? 'yes' : 'no',
        ]),
      )}${table(
        ['ratio (< 1: ours faster)', 'value', 'target'],
        b.ratios.map((x) => [
          x.label,
          fmtNum(x.ratio, 3),
          x.target ? `${x.target.op} ${x.target.value}: ${x.met ? 'met' : 'not met'}` : '',
        ]),
      )}`
    : '';
  const fits = table(
    ['network', 'engine', 'range', 'tokens', 'slope (median)', 'slope (min)', 'slope (CPU)'],
    r.fits.map((f) => [
      f.model,
      f.engine,
      f.range,
      `${fmtTokens(f.fromTokens)}..${fmtTokens(f.toTokens)}`,
      fmtNum(f.slope, 3),
      fmtNum(f.slopeMin, 3),
      fmtNum(f.slopeCpu, 3),
    ]),
  );
  const cross = table(
    ['workload', 'engine', 'WeightFormer faster from (median)', '(min)', '(CPU)'],
    r.crossovers.map((c) => [
      c.workload,
      c.engine,
      describeCrossover(c),
      describeCrossover(c.min),
      describeCrossover(c.cpu),
    ]),
  );
  const ratios = table(
    ['ratio', 'value', 'target', 'note'],
    r.ratios
      .filter(isTargetRatio)
      .map((x) => [x.label, fmtNum(x.ratio, 3), x.target ? `${x.target.op} ${x.target.value}` : '—', x.note]),
  );
  const rows = table(
    [
      'network',
      'engine',
      'what',
      'tokens',
      'batch',
      'median ms',
      'min',
      'max',
      'runs',
      'GFLOP',
      'GFLOP/s',
      'RSS peak MiB',
    ],
    r.rows.map((x) => [
      x.model,
      x.engine,
      x.purpose,
      fmtTokens(x.tokens),
      String(x.batch),
      fmtMs(x.medianMs),
      fmtMs(x.minMs),
      fmtMs(x.maxMs),
      String(x.runs),
      fmtGflop(x.flops),
      fmtNum(x.gflopsPerSecond, 2),
      fmtMiB(x.memory.rssPeakBytes),
    ]),
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>WeightFormer.js bench (${esc(r.mode)})</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1200px; padding: 0 16px; color: #222; }
.chart { position: relative; height: 560px; }
table { border-collapse: collapse; margin: 8px 0 24px; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.machine { background: #f4f4f4; padding: 8px 12px; border-radius: 4px; }
</style>
</head>
<body>
<h1>WeightFormer.js bench (${esc(r.mode)} mode)</h1>
<p class="machine">Machine: <b>${esc(r.machine.label)}</b>. Absolute times belong to this machine; ratios were measured in this
run with the compared workloads interleaved. Run ${esc(r.createdAt)}, ${(r.durationMs / 1000).toFixed(1)} s; engines
${esc(engineLine(r))}. ${esc(settleSentence(r))} The PyTorch curves come from another machine (H200 host): compare their shape only.</p>
${charts}
${checks}
${interference}
${browser}
<h2>Slopes of latency against tokens</h2>
${fits}
<h2>Crossover</h2>
${cross}
<h2>Ratio rows with targets (issues 6, 14, 15)</h2>
${ratios}
<h2>All rows</h2>
${rows}
<script id="bench-data" type="application/json">${data}</script>
<script>${safeChart}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
