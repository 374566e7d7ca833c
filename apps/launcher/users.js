// The owner's list of users admitted to store data on this node: UserList, UserAdmit, UserRemove.
import { t } from './i18n.js'
import { $, bytes, el, fail, toast } from './ui.js'

let state

export function setupUsers(s) {
  state = s
  $('#admit').addEventListener('submit', async (e) => {
    e.preventDefault()
    const form = new FormData(e.target)
    const user = String(form.get('user')).trim()
    const mb = String(form.get('quota') ?? '').trim()
    try {
      await (mb === '' ? state.node.UserAdmit(user) : state.node.UserAdmit(user, Math.round(Number(mb) * 1e6)))
      e.target.reset()
      toast(`${t('users.admit')}: ${user}`)
      await renderUsers()
    } catch (err) {
      fail(err)
    }
  })
}

export async function renderUsers() {
  const body = $('#users')
  if (!state.me.owner) {
    body.replaceChildren(el('tr', {}, el('td', { colspan: '4' }, t('users.ownerOnly'))))
    return
  }
  const users = await state.node.UserList()
  body.replaceChildren(
    ...users.map((u) => {
      const me = u.userId === state.me.userid
      const quota = Number(u.quotaBytes)
      const used = Number(u.usage?.total ?? 0)
      return el('tr', { dataset: { user: u.userId } },
        el('td.mono', { title: u.userId }, u.userId, me ? el('span.badge', {}, t('users.you')) : null),
        el('td', {}, bytes(used), quota ? el('div.meter.thin', {}, el('div', { style: `width:${Math.min(100, (used / quota) * 100).toFixed(1)}%` })) : null),
        el('td', {}, quota ? bytes(quota) : t('node.unlimited')),
        el('td.right', {}, me ? null : el('button.ghost.small.danger', { type: 'button', onclick: () => remove(u.userId) }, t('users.remove'))),
      )
    }),
  )
}

async function remove(userId) {
  if (!confirm(t('users.confirmRemove', userId))) return
  try {
    await state.node.UserRemove(userId)
    await renderUsers()
  } catch (err) {
    fail(err)
  }
}
