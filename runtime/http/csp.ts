// The Content-Security-Policy of the pages the node serves: its own (the launcher) and each app's.
// Both keep a page to its own origin; they differ only in what else it may show.

/**
 * Headers for a page on `host`: scripts and connections from its own origin only (the node's
 * RPC and /lib/ are served on every origin of the node), no plugins, no framing, no other
 * page's forms, no referrer. `images` adds image sources (the launcher shows app icons).
 */
export function pageHeaders(host: string, opts: { styles: 'self' | 'inline'; images?: string } = { styles: 'self' }): Record<string, string> {
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    opts.styles === 'inline' ? "style-src 'self' 'unsafe-inline'" : "style-src 'self'",
    `img-src 'self' data: blob:${opts.images ? ` ${opts.images}` : ''}`,
    "font-src 'self' data:",
    "media-src 'self' blob:",
    `connect-src 'self' ws://${host}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
  ].join('; ')
  return { 'content-security-policy': csp, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' }
}
