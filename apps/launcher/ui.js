// Small DOM helpers for the launcher: element building, toasts, sizes, durations.
import { t } from './i18n.js'

export const $ = (sel, root = document) => root.querySelector(sel)

/** el('div.card', {onclick}, child, 'text') → an element; attributes with `on` prefixes become listeners. */
export function el(spec, attrs = {}, ...children) {
  const [tag, ...classes] = spec.split('.')
  const node = document.createElement(tag || 'div')
  if (classes.length) node.className = classes.join(' ')
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v)
    else if (k === 'dataset') Object.assign(node.dataset, v)
    else if (k === 'style') node.style.cssText = v // through the CSSOM: the page's CSP refuses style attributes
    else if (k in node && k !== 'list' && typeof v !== 'string') node[k] = v
    else node.setAttribute(k, v === true ? '' : String(v))
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) node.append(c instanceof Node ? c : String(c))
  return node
}

let toastTimer
/** A short message at the bottom of the screen; errors stay longer. */
export function toast(text, kind = 'info') {
  const box = $('#toast')
  box.textContent = text
  box.className = `toast show ${kind}`
  clearTimeout(toastTimer)
  toastTimer = setTimeout(() => (box.className = 'toast'), kind === 'error' ? 8000 : 3500)
}

/** Shows what failed, in the node's own words (they say how to fix it). */
export function fail(err) {
  console.error(err)
  toast(t('error', err?.message ?? String(err)), 'error')
}

export function bytes(n) {
  if (n === undefined || n === null) return '—'
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let i = 0
  let v = Number(n)
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000
    i++
  }
  return `${v >= 10 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`
}

export function duration(sec) {
  const s = Math.floor(Number(sec) || 0)
  const d = Math.floor(s / 86400)
  const h = Math.floor((s % 86400) / 3600)
  const m = Math.floor((s % 3600) / 60)
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : `${m}m ${s % 60}s`
}

/** A stable hue for an id, for letter avatars. */
export function hue(id) {
  let h = 0
  for (const c of String(id)) h = (h * 31 + c.charCodeAt(0)) % 360
  return h
}

/** A copy button for `text`. */
export function copyButton(text) {
  const b = el('button.ghost.small', { type: 'button', title: t('copy') }, t('copy'))
  b.addEventListener('click', async () => {
    await navigator.clipboard?.writeText(text).catch(() => {})
    b.textContent = t('copied')
    setTimeout(() => (b.textContent = t('copy')), 1500)
  })
  return b
}

/** Opens a <dialog>; resolves when it closes. */
export function showDialog(dialog) {
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue), { once: true })
    if (!dialog.open) dialog.showModal()
  })
}
