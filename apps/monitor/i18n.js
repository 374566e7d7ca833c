// The monitor's words in English and Chinese (zh when the browser prefers it).
const WORDS = {
  en: {},
  zh: {
    title: '监控',
    'signin.title': '登录后查看本节点的请求',
    'signin.lead': '监控只对节点所有者开放。在节点所在的机器上运行：',
    'signin.note': '它会打印一个一次性链接，打开后即已登录本页。',
    day: '日期 (UTC)',
    kind: '请求',
    'kind.all': '全部',
    'kind.syscall': '系统调用',
    'kind.http': 'HTTP 路由',
    nodes: '节点',
    'nodes.add': '添加',
    'nodes.self': '本节点',
    'trend.days': '30 天',
    'trend.hours': '当天各小时',
    empty: '这一天没有记录到请求。',
    'col.node': '节点',
    'col.kind': '类型',
    'col.name': '请求',
    'col.count': '次数',
    'col.errors': '错误',
    'col.avgMs': '平均 ms',
    'col.p95Ms': 'P95 ms',
    'col.maxMs': '最大 ms',
    summary: (n, calls, nodes) => `${n} 种请求，共 ${calls} 次，来自 ${nodes} 个节点`,
    avg: '平均',
    max: '最大',
    failed: (url, msg) => `${url}：${msg}`,
  },
}
const EN = {
  'nodes.self': 'This node',
  'col.node': 'Node',
  'col.kind': 'Kind',
  'col.name': 'Request',
  'col.count': 'Count',
  'col.errors': 'Errors',
  'col.avgMs': 'Avg ms',
  'col.p95Ms': 'P95 ms',
  'col.maxMs': 'Max ms',
  summary: (n, calls, nodes) => `${n} kinds of request, ${calls} calls, from ${nodes} node${nodes === 1 ? '' : 's'}`,
  avg: 'average',
  max: 'maximum',
  failed: (url, msg) => `${url}: ${msg}`,
}

export const lang = /^zh\b/i.test(navigator.language ?? '') ? 'zh' : 'en'

/** The word for `key` (a function of `args` for some); English is the page's own text. */
export function t(key, ...args) {
  const w = WORDS[lang][key] ?? EN[key] ?? document.querySelector(`[data-t="${key}"]`)?.textContent ?? key
  return typeof w === 'function' ? w(...args) : w
}

/** Puts the chosen language into every element marked data-t. */
export function translate() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en'
  if (lang === 'en') return
  for (const e of document.querySelectorAll('[data-t]')) {
    const w = WORDS[lang][e.dataset.t]
    if (typeof w === 'string') e.textContent = w
  }
}
