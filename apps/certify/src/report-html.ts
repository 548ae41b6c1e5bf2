import { PNG } from 'pngjs';
import { certifiedUnder, methodHeading, pct, resultMethods, resultTables, type Table } from './summary.js';
import type { CertifyMethod } from './internal/method-spec.js';
import type { CertifyResults, ReportSample } from './results.js';

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

function pngDataUrl(width: number, height: number, rgba: Uint8Array): string {
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return `data:image/png;base64,${PNG.sync.write(png).toString('base64')}`;
}

/** The sample's uint8 pixels as a PNG data URL (gray or RGB). */
export function imageDataUrl(sample: Pick<ReportSample, 'shape' | 'pixels'>): string {
  const [h, w, c] = sample.shape;
  const px = Buffer.from(sample.pixels, 'base64');
  const rgba = new Uint8Array(h * w * 4);
  for (let i = 0; i < h * w; i++) {
    for (let k = 0; k < 3; k++) rgba[i * 4 + k] = px[i * c + (c === 1 ? 0 : k)]!;
    rgba[i * 4 + 3] = 255;
  }
  return pngDataUrl(w, h, rgba);
}

/** The range a heatmap's colours span: the most negative margin, and the positive range. */
export interface MarginScale {
  /** |most negative margin| (0 when none is negative). */
  negative: number;
  /** Start of the blue ramp: 0, or the smallest margin when all are positive. */
  low: number;
  /** The largest margin. */
  high: number;
}

/** The colour range of one image's margins. */
export function marginScale(margins: readonly number[]): MarginScale {
  const min = Math.min(...margins);
  const max = Math.max(...margins);
  return { negative: Math.max(0, -min), low: Math.max(0, min), high: max };
}

/**
 * Colour of a margin: red when negative (the patch there breaks the certificate), deeper as it
 * falls to the image's most negative margin; blue when positive, from pale at the bottom of the
 * positive range (0, or the image's weakest location when every margin is positive) to deep at
 * its largest margin. Each image gets its own range so its weakest region always shows.
 */
export function marginColor(margin: number, scale: MarginScale): [number, number, number] {
  if (margin < 0) {
    const t = Math.min(1, scale.negative > 0 ? -margin / scale.negative : 1);
    return [255, Math.round(255 * (1 - t)), Math.round(255 * (1 - t))];
  }
  const span = scale.high - scale.low;
  const t = 0.1 + 0.9 * Math.max(0, Math.min(1, span > 0 ? (margin - scale.low) / span : 1));
  return [Math.round(255 * (1 - t)), Math.round(255 * (1 - 0.6 * t)), 255];
}

/** The heatmap of worst margins per patch location as a PNG data URL. */
export function heatmapDataUrl(sample: Pick<ReportSample, 'rows' | 'cols' | 'worstMarginMap'>): string {
  const scale = marginScale(sample.worstMarginMap);
  const rgba = new Uint8Array(sample.rows * sample.cols * 4);
  sample.worstMarginMap.forEach((m, i) => {
    const [r, g, b] = marginColor(m, scale);
    rgba.set([r, g, b, 255], i * 4);
  });
  return pngDataUrl(sample.cols, sample.rows, rgba);
}

function tableHtml(table: Table): string {
  const head = table.header.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const rows = table.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<h3>${escapeHtml(table.title)}</h3>\n<table class="paper"><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

function sampleCard(s: ReportSample, results: CertifyResults): string {
  const classes = results.model.metadata.classNames;
  const verdict = results.images.find((r) => r.index === s.index)?.threats[s.threat];
  const [h, w] = s.shape;
  let worst = 0;
  s.worstMarginMap.forEach((m, i) => {
    if (m < s.worstMarginMap[worst]!) worst = i;
  });
  const min = s.worstMarginMap[worst] ?? 0;
  const max = Math.max(...s.worstMarginMap);
  const wr = Math.floor(worst / s.cols);
  const wc = worst % s.cols;
  // The patch's bounding box follows from the grid: rows = H − patchHeight + 1.
  const ph = h - s.rows + 1;
  const pw = w - s.cols + 1;
  const box = (top: number, left: number, height: number, width: number) =>
    `<span class="mark" style="top:${top}%;left:${left}%;height:${height}%;width:${width}%"></span>`;
  const size = 112;
  const className = (k: number) => escapeHtml(classes[k] ?? String(k));
  return `<figure class="sample" data-index="${s.index}" data-certified="${s.certified}">
  <div class="pair">
    <div class="frame"><img class="image" alt="test image ${s.index}" width="${size}" height="${size}" src="${imageDataUrl(s)}">${box((100 * wr) / h, (100 * wc) / w, (100 * ph) / h, (100 * pw) / w)}</div>
    <div class="frame"><img class="heatmap" alt="worst margin per patch location" width="${size}" height="${Math.round((size * s.rows) / s.cols)}" src="${heatmapDataUrl(s)}"
      data-rows="${s.rows}" data-cols="${s.cols}" data-sample="${s.index}">${box((100 * wr) / s.rows, (100 * wc) / s.cols, 100 / s.rows, 100 / s.cols)}</div>
  </div>
  <figcaption>#${s.index} · label ${className(s.label)} · predicted ${className(s.prediction)}<br>
  worst margin <span class="worst-margin">${min.toFixed(3)}</span> at (${wr}, ${wc})${verdict ? ` vs class ${className(verdict.worstClass)}` : ''}<br>
  margins ${min.toFixed(2)} … ${max.toFixed(2)} · <span class="probe">hover the heatmap</span></figcaption>
</figure>`;
}

/** Safe inside a `<script>` element: `<` cannot close it. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

/**
 * The self-contained HTML report of a results file: summary and paper-layout tables, then, for
 * the sampled images, each image beside a heatmap of its worst margin per patch location,
 * certified and uncertified examples side by side. Images are inline PNG data URLs; a small inline
 * script recomputes the accuracies from the embedded per-image verdicts (a consistency check the
 * page shows) and reads out margins under the pointer. No external resources.
 */
export function buildReportHtml(results: CertifyResults): string {
  const meta = results.model.metadata;
  const methods = resultMethods(results);
  const methodOf = (m: CertifyMethod | undefined) => methods.find((x) => x.method === (m ?? 'ibp'));
  const summaryRows = results.summary
    .map((s) => {
      const m = methodOf(s.method);
      const passes = m?.passesPerImage !== undefined ? `${m.passesPerImage} ${m.passKind ?? ''}`.trim() : '–';
      const speed = m?.imagesPerSecond !== undefined ? m.imagesPerSecond.toFixed(2) : '–';
      return (
        `<tr data-threat="${escapeHtml(s.threat)}"><td>${escapeHtml(s.label)}</td><td class="method">${escapeHtml(m ? methodHeading(m) : (s.method ?? 'ibp'))}</td>` +
        `<td class="images">${s.images}</td><td class="clean">${pct(s.clean)}</td><td class="certified">${pct(s.certified)}</td><td class="js-certified">…</td>` +
        `<td class="passes">${escapeHtml(passes)}</td><td class="speed">${speed}</td></tr>`
      );
    })
    .join('\n');
  const cards = (certified: boolean) =>
    results.samples
      .filter((s) => s.certified === certified)
      .map((s) => sampleCard(s, results))
      .join('\n') || '<p class="none">none among the certified images</p>';
  const heatThreat = results.threats.find((t) => t.id === results.heatmapThreat);
  const rows = results.summary.map((s) => ({ id: s.threat, method: s.method ?? 'ibp', base: s.baseThreat ?? s.threat }));
  const embedded = {
    threats: rows.map((r) => r.id),
    // One string per image: '1'/'0' per summary row (method and threat), compact enough for 10k images.
    verdicts: results.images.map((img) => rows.map((r) => (certifiedUnder(img, r.method, r.base) ? '1' : '0')).join('')),
    maps: Object.fromEntries(results.samples.map((s) => [s.index, s.worstMarginMap])),
  };
  const t = results.timing;
  return `<!doctype html>
<html lang="en" data-rendered="false">
<head>
<meta charset="utf-8">
<title>patchcert certification report: ${escapeHtml(meta.architecture)} on ${escapeHtml(results.dataset.name)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.7em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.partial { background: #fff3cd; border: 1px solid #e0c060; padding: 0.5em 1em; }
.columns { display: flex; gap: 2em; align-items: flex-start; }
.columns > section { flex: 1; }
.sample { display: inline-block; margin: 0 1em 1em 0; vertical-align: top; }
.pair { display: flex; gap: 4px; }
.pair img { image-rendering: pixelated; border: 1px solid #999; display: block; }
.frame { position: relative; }
.mark { position: absolute; box-sizing: border-box; border: 2px solid #ffd200; pointer-events: none; }
figcaption { font-size: 12px; max-width: 232px; }
.legend { display: inline-block; width: 200px; height: 12px; vertical-align: middle;
  background: linear-gradient(to right, rgb(255,0,0), rgb(255,255,255), rgb(230,240,255), rgb(0,102,255)); }
</style>
</head>
<body>
<h1>Certification report</h1>
${results.partial ? `<p class="partial" id="partial">Partial results: ${results.images.length} of ${results.dataset.total} images certified so far (interrupted; continue with <code>--resume</code>).</p>` : ''}
<p>Model <b>${escapeHtml(meta.architecture)}</b> (${results.model.parameters} parameters) from <code>${escapeHtml(results.model.dir)}</code>,
dataset <b>${escapeHtml(results.dataset.name)}</b> test split, <span id="image-count">${results.images.length}</span> of ${results.dataset.total} images.<br>
${escapeHtml(results.backend)} · ${t.images} images in ${t.seconds.toFixed(1)} s, certifying at ${t.imagesPerSecond.toFixed(2)} images/s after start-up · updated ${escapeHtml(results.updatedAt)}</p>

<h2>Summary</h2>
<table id="summary"><thead><tr><th>threat</th><th>method</th><th>images</th><th>clean %</th><th>certified %</th><th>certified % (page check)</th><th>passes / image</th><th>images/s</th></tr></thead>
<tbody>
${summaryRows}
</tbody></table>
<p>Cost per method: passes / image counts interval bound passes for IBP (one clean pass plus one per patch location, one per sparse threat)
and base-classifier forward passes for ablation methods; images/s is the method's throughput on one thread of certifying time.</p>

${resultTables(results).map(tableHtml).join('\n')}
${results.skipped.length > 0 ? `<p>Left out: ${results.skipped.map((s) => `${escapeHtml(s.threat)} (${escapeHtml(s.reason)})`).join('; ')}.</p>` : ''}

<h2>Where the model is weakest</h2>
${
  heatThreat
    ? `<p>Each test image beside the worst margin lower bound (min over classes j ≠ label) for the ${escapeHtml(results.heatmapThreat ?? '')} threat placed with its top-left corner at each location.
Red: the bound is negative there (not certified), deepest at the image's most negative margin; blue: positive, palest at the weakest
positive location (0, or the image's minimum when all are positive) and deepest at its largest margin <span class="legend"></span>.
The yellow box marks the weakest location: on the image, the patch placed there; on the heatmap, its cell.</p>
<div class="columns">
<section id="certified"><h3>Certified</h3>
${cards(true)}
</section>
<section id="uncertified"><h3>Not certified</h3>
${cards(false)}
</section>
</div>`
    : '<p>No patch or shape threat was certified with IBP, so there are no location heatmaps (ablation certificates have no per-location margins).</p>'
}
<script type="application/json" id="patchcert-data">${scriptJson(embedded)}</script>
<script>
(function () {
  var data = JSON.parse(document.getElementById('patchcert-data').textContent);
  var n = data.verdicts.length;
  data.threats.forEach(function (id, t) {
    var certified = 0;
    for (var i = 0; i < n; i++) if (data.verdicts[i].charAt(t) === '1') certified++;
    var row = document.querySelector('tr[data-threat="' + id + '"] .js-certified');
    if (row) row.textContent = n ? (100 * certified / n).toFixed(2) : '0.00';
  });
  document.querySelectorAll('img.heatmap').forEach(function (img) {
    var map = data.maps[img.dataset.sample];
    var probe = img.closest('figure').querySelector('.probe');
    img.addEventListener('mousemove', function (ev) {
      var rows = +img.dataset.rows, cols = +img.dataset.cols;
      var c = Math.min(cols - 1, Math.floor(ev.offsetX / img.clientWidth * cols));
      var r = Math.min(rows - 1, Math.floor(ev.offsetY / img.clientHeight * rows));
      probe.textContent = 'margin ' + map[r * cols + c].toFixed(3) + ' at (' + r + ', ' + c + ')';
    });
  });
  document.documentElement.dataset.rendered = 'true';
})();
</script>
</body>
</html>
`;
}
