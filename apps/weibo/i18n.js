// Weibo's words in English and Chinese (zh when the browser prefers it).
const WORDS = {
  en: {
    title: 'Weibo',
    'tab.home': 'Home',
    'tab.mine': 'My posts',
    'tab.people': 'People',
    'tab.profile': 'Profile',
    compose: "What's happening?",
    post: 'Post',
    name: 'Name',
    bio: 'Bio',
    save: 'Save',
    saved: 'Saved',
    posted: 'Posted',
    follow: 'Follow',
    unfollow: 'Unfollow',
    followId: 'Follow by user id',
    like: 'Like',
    liked: 'Liked',
    empty: 'No posts yet.',
    myId: 'Your user id (share it so others can follow you)',
    noname: '(no name)',
    signin: 'Open Weibo from the launcher of your node (or `leither open weibo`) to sign in.',
    private: 'Others on this node cannot read your posts yet: allow "mimei" for Weibo in the launcher.',
    tooLong: (n, max) => `${n} characters; a post has at most ${max}.`,
    count: (n, max) => `${n}/${max}`,
  },
  zh: {
    title: '微博',
    'tab.home': '首页',
    'tab.mine': '我的微博',
    'tab.people': '用户',
    'tab.profile': '个人资料',
    compose: '有什么新鲜事？',
    post: '发布',
    name: '昵称',
    bio: '简介',
    save: '保存',
    saved: '已保存',
    posted: '已发布',
    follow: '关注',
    unfollow: '取消关注',
    followId: '按用户 ID 关注',
    like: '赞',
    liked: '已赞',
    empty: '还没有微博。',
    myId: '你的用户 ID（分享给别人以便关注你）',
    noname: '（未设置昵称）',
    signin: '请从节点的启动器打开微博（或运行 `leither open weibo`）以登录。',
    private: '本节点上的其他人还不能读取你的微博：请在启动器中为微博允许 “mimei”。',
    tooLong: (n, max) => `${n} 个字符；一条微博最多 ${max} 个字符。`,
    count: (n, max) => `${n}/${max}`,
  },
}

export const lang = (navigator.languages ?? [navigator.language]).some((l) => /^zh\b/i.test(l)) ? 'zh' : 'en'

export function t(key, ...args) {
  const w = WORDS[lang][key] ?? WORDS.en[key] ?? key
  return typeof w === 'function' ? w(...args) : w
}

/** Fills every [data-t] element and sets the page language. */
export function translate(root = document) {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en'
  for (const el of root.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t)
  for (const el of root.querySelectorAll('[data-tp]')) el.placeholder = t(el.dataset.tp)
}
