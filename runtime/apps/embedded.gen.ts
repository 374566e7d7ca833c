// Importing each file with type "file" makes `bun build --compile` embed it; from source the
// paths point at apps/ on disk.
// (Type checkers see HTML/JSON modules; at run time a "file" import is always a path string.)
// @ts-ignore: a "file" import of a script, style or image
import f0 from '../../apps/launcher/app.js' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f1 from '../../apps/launcher/apps.js' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f2 from '../../apps/launcher/i18n.js' with { type: 'file' }
import f3 from '../../apps/launcher/index.html' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f4 from '../../apps/launcher/install.js' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f5 from '../../apps/launcher/logo.svg' with { type: 'file' }
import f6 from '../../apps/launcher/manifest.json' with { type: 'file' }
import f7 from '../../apps/launcher/shortcut.html' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f8 from '../../apps/launcher/style.css' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f9 from '../../apps/launcher/ui.js' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f10 from '../../apps/launcher/users.js' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f11 from '../../apps/launcher/wallet.js' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f12 from '../../apps/monitor/app.js' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f13 from '../../apps/monitor/chart.js' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f14 from '../../apps/monitor/i18n.js' with { type: 'file' }
import f15 from '../../apps/monitor/index.html' with { type: 'file' }
import f16 from '../../apps/monitor/manifest.json' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f17 from '../../apps/monitor/style.css' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f18 from '../../apps/weibo/API.md' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f19 from '../../apps/weibo/README.md' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f20 from '../../apps/weibo/app.js' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f21 from '../../apps/weibo/dm.js' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f22 from '../../apps/weibo/feed.js' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f23 from '../../apps/weibo/i18n.js' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f24 from '../../apps/weibo/icon.svg' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f25 from '../../apps/weibo/inbox.js' with { type: 'file' }
import f26 from '../../apps/weibo/index.html' with { type: 'file' }
import f27 from '../../apps/weibo/manifest.json' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f28 from '../../apps/weibo/messages.js' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f29 from '../../apps/weibo/store.js' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f30 from '../../apps/weibo/style.css' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f31 from '../../apps/weibo/text.js' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f32 from '../../apps/weibo/ui/comments.js' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f33 from '../../apps/weibo/ui/compose.js' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f34 from '../../apps/weibo/ui/dom.js' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f35 from '../../apps/weibo/ui/feed.js' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f36 from '../../apps/weibo/ui/inbox.js' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f37 from '../../apps/weibo/ui/post.js' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f38 from '../../apps/weibo/ui/state.js' with { type: 'file' }
// @ts-ignore: a "file" import of a script, style or image
import f39 from '../../apps/weibo/ui/views.js' with { type: 'file' }

const files: Record<string, unknown> = {
  "launcher/app.js": f0,
  "launcher/apps.js": f1,
  "launcher/i18n.js": f2,
  "launcher/index.html": f3,
  "launcher/install.js": f4,
  "launcher/logo.svg": f5,
  "launcher/manifest.json": f6,
  "launcher/shortcut.html": f7,
  "launcher/style.css": f8,
  "launcher/ui.js": f9,
  "launcher/users.js": f10,
  "launcher/wallet.js": f11,
  "monitor/app.js": f12,
  "monitor/chart.js": f13,
  "monitor/i18n.js": f14,
  "monitor/index.html": f15,
  "monitor/manifest.json": f16,
  "monitor/style.css": f17,
  "weibo/API.md": f18,
  "weibo/README.md": f19,
  "weibo/app.js": f20,
  "weibo/dm.js": f21,
  "weibo/feed.js": f22,
  "weibo/i18n.js": f23,
  "weibo/icon.svg": f24,
  "weibo/inbox.js": f25,
  "weibo/index.html": f26,
  "weibo/manifest.json": f27,
  "weibo/messages.js": f28,
  "weibo/store.js": f29,
  "weibo/style.css": f30,
  "weibo/text.js": f31,
  "weibo/ui/comments.js": f32,
  "weibo/ui/compose.js": f33,
  "weibo/ui/dom.js": f34,
  "weibo/ui/feed.js": f35,
  "weibo/ui/inbox.js": f36,
  "weibo/ui/post.js": f37,
  "weibo/ui/state.js": f38,
  "weibo/ui/views.js": f39,
}

export const EMBEDDED_APPS = files as Record<string, string>
