// Small DOM helpers shared by the page modules.

/**
 * The element with this id; throws if the page lacks it (a markup/script mismatch).
 * @template {HTMLElement} T
 * @param {string} id
 * @returns {T}
 */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return /** @type {T} */ (el);
}

/**
 * Set the text of every `[data-badge=name]` inside root; an empty badge (0) is hidden.
 * @param {ParentNode} root
 * @param {string} name
 * @param {number} count
 */
export function setBadge(root, name, count) {
  root.querySelectorAll(`[data-badge="${name}"]`).forEach((el) => {
    el.textContent = count > 0 ? String(count) : '';
    /** @type {HTMLElement} */ (el).hidden = count <= 0;
  });
}
