// The compose box: text with a live counter (at most MAX characters) and up to 9 pictures, each
// shrunk in the page with a canvas into a thumbnail (and the full picture kept at most 2048 px).
import { t } from '../i18n.js'
import { MAX_IMAGE_BYTES, MAX_IMAGES, MAX_THUMB_BYTES } from '../store.js'
import { el, iconLabel, toast } from './dom.js'

const THUMB_PX = 360
const FULL_PX = 2048

/** JPEG of the bitmap at most `maxPx` on its longer side and at most `maxBytes` (the quality steps down until it fits). */
async function encode(bitmap, maxPx, quality, maxBytes) {
  for (let q = quality; ; q -= 0.15) {
    const out = await encodeOnce(bitmap, maxPx, q)
    if (out.bytes.length <= maxBytes || q <= 0.3) return out
  }
}

async function encodeOnce(bitmap, maxPx, quality) {
  const scale = Math.min(1, maxPx / Math.max(bitmap.width, bitmap.height))
  const w = Math.max(1, Math.round(bitmap.width * scale))
  const h = Math.max(1, Math.round(bitmap.height * scale))
  const canvas = document.createElement('canvas')
  canvas.width = w
  canvas.height = h
  canvas.getContext('2d').drawImage(bitmap, 0, 0, w, h)
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality))
  return { bytes: new Uint8Array(await blob.arrayBuffer()), type: 'image/jpeg', w, h }
}

/** A picture file as {full, thumb}: JPEG bytes with their sizes, the thumbnail at most 360 px. */
export async function prepareImage(file) {
  const bitmap = await createImageBitmap(file)
  try {
    return { full: await encode(bitmap, FULL_PX, 0.88, MAX_IMAGE_BYTES), thumb: await encode(bitmap, THUMB_PX, 0.8, MAX_THUMB_BYTES), name: file.name }
  } finally {
    bitmap.close?.()
  }
}

/**
 * A compose form. `submit(text, images)` posts; `max` is the longest text; `images: false` hides
 * the picture button (comments, reposts). Resolves the form element; `.focus()` focuses the text.
 */
export function composer({ submit, max = 2000, images = true, placeholder = t('compose'), label = t('post'), rows = 3, allowEmpty = false, id }) {
  const pics = []
  const text = el('textarea', { rows, placeholder, className: 'compose-text', 'aria-label': placeholder })
  const count = el('span', { className: 'count muted small' })
  const send = el('button', { type: 'submit', className: 'send', textContent: label })
  const previews = el('div', { className: 'previews' })
  const file = el('input', { type: 'file', accept: 'image/*', multiple: true, hidden: true, className: 'pick' })
  const pick = iconLabel(el('button', { type: 'button', className: 'plain icon-btn pick-btn', title: t('addImages') }), 'image', t('images'))
  const form = el('form', { className: 'composer', id }, text, previews, el('div', { className: 'row' }, el('span', { className: 'tools' }, images ? [pick, file] : []), el('span', { className: 'row-end' }, count, send)))

  const update = () => {
    const n = text.value.length
    count.textContent = t('count', n, max)
    count.classList.toggle('over', n > max)
    send.disabled = n > max || (!allowEmpty && n === 0 && pics.length === 0)
    pick.disabled = pics.length >= MAX_IMAGES
    form.dataset.images = String(pics.length)
  }
  const drawPreviews = () => {
    previews.replaceChildren(
      ...pics.map((p, i) => {
        const url = URL.createObjectURL(new Blob([p.thumb.bytes], { type: p.thumb.type }))
        const rm = el('button', { type: 'button', className: 'rm', title: t('remove'), textContent: '×' })
        rm.addEventListener('click', () => {
          pics.splice(i, 1)
          drawPreviews()
          update()
        })
        return el('span', { className: 'preview' }, el('img', { src: url, alt: p.name || '' }), rm)
      }),
    )
  }
  pick.addEventListener('click', () => file.click())
  file.addEventListener('change', async () => {
    const files = [...file.files]
    file.value = ''
    if (pics.length + files.length > MAX_IMAGES) toast(t('tooManyImages', MAX_IMAGES))
    for (const f of files.slice(0, MAX_IMAGES - pics.length)) {
      try {
        pics.push(await prepareImage(f))
      } catch {
        toast(t('badImage', f.name))
      }
    }
    drawPreviews()
    update()
  })
  text.addEventListener('input', update)
  text.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) form.requestSubmit()
  })
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    if (send.disabled) return
    send.disabled = true
    try {
      await submit(text.value, pics.slice())
      text.value = ''
      pics.length = 0
      drawPreviews()
    } catch (err) {
      toast(err?.message ?? String(err))
    } finally {
      update()
    }
  })
  form.focusText = () => text.focus()
  update()
  return form
}
