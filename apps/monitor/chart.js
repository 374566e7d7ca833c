// A trend chart drawn by hand in SVG: the average and the maximum response time per hour or day.
const NS = 'http://www.w3.org/2000/svg'
const PAD = { left: 52, right: 14, top: 34, bottom: 34 }

function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(NS, tag)
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v))
  if (text !== undefined) e.textContent = text
  return e
}

/** Round numbers for the y axis: 4 or 5 steps of 1, 2 or 5 × 10^n up to at least `max`. */
function ticks(max) {
  if (!(max > 0)) return [0, 1]
  const raw = max / 4
  const pow = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw)
  const out = []
  for (let v = 0; v <= max + step * 0.001; v += step) out.push(v)
  if (out.at(-1) < max) out.push(out.at(-1) + step)
  return out
}

export const ms = (v) => (v === 0 ? '0' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3))

/**
 * Draws `points` ({start, label, count, avgMs, maxMs}, one per bucket, count 0 where nothing was
 * served) into `box`: a line for the average, one for the maximum, a dot per bucket with a tooltip.
 */
export function drawChart(box, points, words) {
  // As wide as the box, so that the labels keep their size on a phone.
  const W = Math.max(300, Math.min(960, box.clientWidth || 720))
  const H = W < 500 ? 220 : 260
  const served = points.filter((p) => p.count > 0)
  const top = ticks(Math.max(0, ...served.map((p) => p.maxMs)))
  const yMax = top.at(-1)
  const plotW = W - PAD.left - PAD.right
  const plotH = H - PAD.top - PAD.bottom
  const x = (i) => PAD.left + (points.length <= 1 ? plotW / 2 : (i * plotW) / (points.length - 1))
  const y = (v) => PAD.top + plotH - (v / yMax) * plotH
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': `${words.avg} / ${words.max}` })
  for (const v of top) {
    root.append(svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: 'grid' }))
    root.append(svg('text', { x: PAD.left - 6, y: y(v) + 4, class: 'ylabel' }, ms(v)))
  }
  root.append(svg('text', { x: 4, y: PAD.top - 14, class: 'unit' }, 'ms'))
  // Labels evenly spaced back from the last bucket (today, or the day's last hour).
  const every = Math.max(1, Math.ceil(points.length / 8))
  points.forEach((p, i) => {
    if ((points.length - 1 - i) % every === 0) root.append(svg('text', { x: x(i), y: H - 10, class: 'xlabel' }, p.label))
  })
  for (const [key, cls] of [['maxMs', 'max'], ['avgMs', 'avg']]) {
    // Buckets with no calls break the line rather than drop it to zero.
    let run = []
    const flush = () => {
      if (run.length > 1) root.append(svg('polyline', { points: run.join(' '), class: `line ${cls}` }))
      run = []
    }
    points.forEach((p, i) => (p.count > 0 ? run.push(`${x(i).toFixed(1)},${y(p[key]).toFixed(1)}`) : flush()))
    flush()
    points.forEach((p, i) => {
      if (p.count === 0) return
      const dot = svg('circle', { cx: x(i), cy: y(p[key]), r: 3.2, class: `dot ${cls}`, 'data-start': p.start })
      dot.append(svg('title', {}, `${p.label}: ${words[cls]} ${ms(p[key])} ms · ${p.count} calls${p.errors ? ` · ${p.errors} errors` : ''}`))
      root.append(dot)
    })
  }
  const legend = svg('g', { class: 'legend' })
  const ly = PAD.top - 20
  legend.append(svg('rect', { x: W - PAD.right - 200, y: ly - 4, width: 14, height: 4, class: 'key max' }))
  legend.append(svg('text', { x: W - PAD.right - 182, y: ly + 1 }, words.max))
  legend.append(svg('rect', { x: W - PAD.right - 100, y: ly - 4, width: 14, height: 4, class: 'key avg' }))
  legend.append(svg('text', { x: W - PAD.right - 82, y: ly + 1 }, words.avg))
  root.append(legend)
  box.replaceChildren(root)
  box.dataset.points = String(served.length)
}
