// Tests of the markdown and HTML reports on synthetic results: tables present, page self-contained.
import { describe, expect, it } from 'vitest';
import { chartJsSource, renderHtml } from './report-html.js';
import { renderMarkdown } from './report-md.js';
import { sampleResults } from './sample-results.js';

describe('results.md', () => {
  const md = renderMarkdown(sampleResults());

  it('labels absolute times with the machine and has every section', () => {
    expect(md).toContain('Test CPU, 2 cores, 16 GiB, Node v20.0.0');
    for (const h of [
      '## Checks (issue 5)',
      '## Slopes',
      '## Crossover',
      '## Ratio rows with targets (issues 6, 14, 15)',
      '## Cost model',
    ])
      expect(md).toContain(h);
    expect(md).toContain('## PyTorch reference (another machine: shape only)');
    expect(md).toContain('| wfm-block | cpu | sweep | 12,544 |');
  });

  it('renders tables with a separator row of the right width', () => {
    const lines = md.split('\n');
    const i = lines.findIndex((l) => l.startsWith('| check |'));
    const cols = lines[i].split('|').length;
    expect(lines[i + 1].split('|').length).toBe(cols);
    expect(lines[i + 2].split('|').length).toBe(cols);
  });
});

describe('index.html', () => {
  const r = sampleResults();
  const html = renderHtml(r);

  it('inlines Chart.js and the data, and loads nothing from the network', () => {
    expect(chartJsSource().length).toBeGreaterThan(100_000);
    expect(html).toContain(chartJsSource().slice(0, 200));
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link[^>]+href="http/);
    expect(html).toContain('<link rel="icon" href="data:,">');
  });

  it('has one canvas per workload and escapes text', () => {
    expect(html.match(/<canvas /g)!.length).toBe(r.workloads.length);
    expect(html).toContain('Blocks &lt;test&gt;');
    expect(html).toContain('Models &amp; co');
    const json = html.match(/<script id="bench-data" type="application\/json">([\s\S]*?)<\/script>/)![1];
    expect(json).not.toContain('<');
    expect(JSON.parse(json).workloads[0].title).toBe('Blocks <test>');
  });
});
