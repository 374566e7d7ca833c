// Comments under a post, threaded as the store gives them: a reply sits under the comment it
// answers; each has a Reply button, and the form at the top writes a comment or the chosen reply.
import { t } from '../i18n.js'
import { composer } from './compose.js'
import { avatar, el, nameOf, richText, when } from './dom.js'
import { app } from './state.js'

/** Comments in a threaded list, replies included. */
const total = (cs) => cs.reduce((n, c) => n + 1 + total(c.replies ?? []), 0)

function commentList(nodes, reply) {
  return el(
    'ul',
    { className: 'comments' },
    nodes.map((c) => {
      const replyBtn = el('button', { className: 'link reply', type: 'button', textContent: t('reply') })
      replyBtn.addEventListener('click', () => reply(c))
      const li = el(
        'li',
        { className: 'comment', dataset: { comment: c.id, author: c.by?.id ?? '' } },
        el('div', {}, el('a', { href: `#/u/${encodeURIComponent(c.by?.id)}` }, avatar(c.by, 20)), ' ', el('a', { className: 'who', href: `#/u/${encodeURIComponent(c.by?.id)}`, textContent: nameOf(app.remember(c.by)) }), el('span', { className: 'ctext' }, richText(c.text ?? '', app.mentionId))),
        el('div', { className: 'meta' }, when(c.at), ' ', replyBtn),
      )
      if (c.replies?.length) li.append(commentList(c.replies, reply))
      return li
    }),
  )
}

/** The comments block of post `p`: the thread and a form; `onCount(n)` learns the new count. */
export async function openComments(p, onCount) {
  const box = el('div', { className: 'thread', dataset: { thread: `${p.author.id}/${p.id}` } })
  let replyTo
  const hint = el('div', { className: 'small muted' })
  const form = composer({
    images: false,
    rows: 2,
    max: 500,
    placeholder: t('comment'),
    label: t('comment'),
    submit: async (text) => {
      await app.wb.comment(p.author.id, p.id, app.resolveMentions(text), replyTo?.id)
      replyTo = undefined
      hint.textContent = ''
      await draw()
    },
  })
  form.classList.add('comment-form')
  const listBox = el('div', {})
  const draw = async () => {
    const list = await app.wb.comments(p.author.id, p.id)
    const n = total(list)
    onCount?.(n)
    listBox.replaceChildren(
      list.length ? commentList(list, (c) => {
        replyTo = c
        hint.textContent = `${t('reply')} @${nameOf(c.by)}`
        form.focusText()
      }) : el('div', { className: 'small muted' }),
    )
    box.dataset.count = String(n)
  }
  box.append(form, hint, listBox)
  box.refresh = draw
  await draw()
  return box
}
