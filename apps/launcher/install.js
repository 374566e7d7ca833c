// Installing: a package file uploaded in chunks (MFOpenTempFile, MFSetData, MFTemp2MacFile, then
// UploadApp) or an app id fetched from the network (InstallApp), then the permission dialog.
import { t } from './i18n.js'
import { $, bytes, el, fail, showDialog, toast } from './ui.js'
import { renderApps } from './apps.js'

let state
const CHUNK = 1024 * 1024

export function setupInstall(s) {
  state = s
  const dlg = $('#install-dlg')
  $('#install-open').addEventListener('click', () => {
    resetProgress()
    dlg.showModal()
  })
  const input = $('#pkg-file')
  input.addEventListener('change', () => input.files?.[0] && run(() => uploadPackage(input.files[0])))
  const drop = $('#drop')
  drop.addEventListener('dragover', (e) => {
    e.preventDefault()
    drop.classList.add('over')
  })
  drop.addEventListener('dragleave', () => drop.classList.remove('over'))
  drop.addEventListener('drop', (e) => {
    e.preventDefault()
    drop.classList.remove('over')
    const file = e.dataTransfer?.files?.[0]
    if (file) run(() => uploadPackage(file))
  })
  $('#by-id').addEventListener('submit', (e) => {
    e.preventDefault()
    run(() => installById(new FormData(e.target).get('appid').trim()))
  })
}

function resetProgress() {
  $('#progress').hidden = true
  $('#pkg-file').value = ''
  $('#install-dlg').classList.remove('busy')
}

function progress(text, fraction) {
  $('#progress').hidden = false
  $('#progress-text').textContent = text
  const bar = $('#progress-bar')
  bar.classList.toggle('indeterminate', fraction === undefined)
  bar.style.width = fraction === undefined ? '' : `${Math.round(fraction * 100)}%`
}

/** Runs one install; the dialog is busy meanwhile, and the permission dialog follows. */
async function run(install) {
  const dlg = $('#install-dlg')
  dlg.classList.add('busy')
  try {
    const app = await install()
    dlg.close()
    toast(t('install.done', app.name, app.version))
    await renderApps()
    await askPermissions(app)
  } catch (err) {
    fail(err)
  } finally {
    resetProgress()
  }
}

async function uploadPackage(file) {
  const node = state.node
  const fsid = await node.MFOpenTempFile()
  try {
    for (let at = 0; at < file.size; at += CHUNK) {
      progress(t('install.uploading', file.name), at / file.size)
      const chunk = new Uint8Array(await file.slice(at, at + CHUNK).arrayBuffer())
      await node.MFSetData(fsid, chunk, at)
    }
    progress(t('install.uploading', file.name), 1)
    const cid = await node.MFTemp2MacFile(fsid)
    progress(t('install.checking'))
    return await node.UploadApp(cid, 'tar')
  } finally {
    node.MFClose(fsid).catch(() => {})
  }
}

async function installById(appId) {
  const node = state.node
  progress(t('install.fetching', 0, bytes(0)))
  let done = false
  const install = node.InstallApp(appId).finally(() => (done = true))
  while (!done) {
    const st = await node.MiMeiSyncStatus(appId).catch(() => null)
    if (st) progress(t('install.fetching', st.blocks ?? 0, bytes(st.bytes ?? 0)))
    await Promise.race([install.catch(() => {}), new Promise((r) => setTimeout(r, 300))])
  }
  return install
}

/** The permission dialog: what the app asks for, with its reasons; only what the user ticks is granted. */
export async function askPermissions(app) {
  const dlg = $('#perm-dlg')
  const granted = new Set(((await state.node.AppGrants().catch(() => ({})))?.[app.id] ?? []).map((g) => g.capability))
  $('#perm-title').textContent = t('perm.title', app.name)
  $('#perm-lead').textContent = app.permissions.length ? t('perm.lead') : t('perm.none')
  $('#perm-list').replaceChildren(
    ...app.permissions.map((p) =>
      el('li', {}, el('label.check', {},
        el('input', { type: 'checkbox', name: 'cap', value: p.name, checked: granted.has(p.name) }),
        el('span.perm', {}, el('b', {}, t(`cap.${p.name}`)), el('small', {}, p.name), el('small.reason', {}, p.reason)))),
    ),
  )
  const grant = $('#perm-grant')
  const skip = $('#perm-skip')
  grant.hidden = !app.permissions.length
  const onGrant = async () => {
    const caps = [...dlg.querySelectorAll('input[name=cap]:checked')].map((b) => b.value)
    const off = [...dlg.querySelectorAll('input[name=cap]:not(:checked)')].map((b) => b.value).filter((c) => granted.has(c))
    try {
      if (caps.length) await state.node.AppGrant(app.id, caps)
      if (off.length) await state.node.AppRevoke(app.id, ...off)
      toast(t('perm.granted'))
      dlg.close('granted')
    } catch (err) {
      fail(err)
    }
  }
  const onSkip = () => dlg.close('skipped')
  grant.addEventListener('click', onGrant)
  skip.addEventListener('click', onSkip)
  try {
    await showDialog(dlg)
  } finally {
    grant.removeEventListener('click', onGrant)
    skip.removeEventListener('click', onSkip)
  }
  await renderApps()
}
