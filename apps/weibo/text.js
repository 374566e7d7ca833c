// Post text: limits, and the parse of @mentions, #hashtags and links into tokens the page renders
// (as text nodes and links, never as HTML).
export const MAX_POST = 2000
export const MAX_COMMENT = 2000
export const MAX_IMAGES = 9
export const MAX_IMAGE_BYTES = 4 * 1024 * 1024
export const MAX_THUMB_BYTES = 128 * 1024
export const MAX_AVATAR_BYTES = 512 * 1024

/** A user id: 27 base64url characters (RIPEMD-160 of the user's key). */
export const isUserId = (s) => typeof s === 'string' && /^[A-Za-z0-9_-]{27}$/.test(s)

// @name up to a space or another marker; #tag or #tag# (Weibo's style, spaces allowed inside #…#).
const TOKEN = /(https?:\/\/[^\s<>"]{1,500})|@([^\s@#,.;:!?，。；：！？、]{1,64})|#([^#\s]{1,64})#|#([^\s#@,.;:!?，。；：！？、]{1,64})/gu

/**
 * The text as tokens: `{t: 'text', v}`, `{t: 'url', v}`, `{t: 'mention', v, id?}` (id when `v` is a
 * user id), `{t: 'tag', v}` (v without '#', as written; `tagKey(v)` is how it is indexed).
 */
export function parseText(text) {
  const out = []
  let at = 0
  const push = (tok) => out.push(tok)
  for (const m of String(text).matchAll(TOKEN)) {
    if (m.index > at) push({ t: 'text', v: text.slice(at, m.index) })
    if (m[1]) push({ t: 'url', v: m[1] })
    else if (m[2]) push(isUserId(m[2]) ? { t: 'mention', v: m[2], id: m[2] } : { t: 'mention', v: m[2] })
    else push({ t: 'tag', v: (m[3] ?? m[4]).trim() })
    at = m.index + m[0].length
  }
  if (at < text.length) push({ t: 'text', v: text.slice(at) })
  return out
}

/** How a tag is indexed and looked up: lowercase, trimmed, without '#'. */
export const tagKey = (tag) => String(tag).replace(/^#|#$/g, '').trim().toLowerCase()

/** The distinct tags of a text (indexed form). */
export const hashtags = (text) => [...new Set(parseText(text).filter((x) => x.t === 'tag' && x.v).map((x) => tagKey(x.v)))]

/** The distinct user ids mentioned (`@<user id>`); only these are notified. */
export const mentions = (text) => [...new Set(parseText(text).filter((x) => x.t === 'mention' && x.id).map((x) => x.id))]
