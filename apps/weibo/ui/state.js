// What every part of the page shares: the store (wb) and the names of users met so far, so an
// @name in a post links to the user it names.
export const app = {
  wb: undefined,
  /** lower-cased name → user id, and id → name, filled from every profile the page shows. */
  names: new Map(),
  ids: new Map(),
  remember(profile) {
    if (profile?.name && profile.id) {
      app.names.set(profile.name.toLowerCase(), profile.id)
      app.ids.set(profile.id, profile.name)
    }
    return profile
  },
  /**
   * The text to post: an @name of someone the page knows becomes @<her user id> (only ids are
   * notified, and a name can change); the page shows her name again when it draws the post.
   */
  resolveMentions: (text) => String(text).replace(/@([^\s@#,.;:!?，。；：！？、]{1,64})/gu, (m, name) => {
    const id = app.names.get(name.toLowerCase())
    return id ? `@${id}` : m
  }),
  mentionId: (name) => (/^[A-Za-z0-9_-]{20,64}$/.test(name) ? name : app.names.get(String(name).toLowerCase())),
}
