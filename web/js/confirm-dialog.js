// One modal confirmation (<dialog id="confirm-dialog">) for actions that cannot be undone:
// removing a site, ending the meeting. Optionally with one checkbox (e.g. "revoke its link").

import { localize } from './i18n.js';
import { byId as part } from './dom.js';

/**
 * @typedef {object} ConfirmOptions
 * @property {string} title i18n key
 * @property {string} body i18n key
 * @property {string} confirm i18n key of the confirming button
 * @property {Record<string, string|number>} [vars] for title and body
 * @property {string} [checkbox] i18n key of an optional checkbox (checked by default)
 */

/**
 * Ask; resolves with {ok, checked} once the dialog closes (Escape = cancel).
 * @param {ConfirmOptions} opts
 * @returns {Promise<{ok: boolean, checked: boolean}>}
 */
export function confirmAction({ title, body, confirm, vars, checkbox }) {
  const dialog = /** @type {HTMLDialogElement} */ (part('confirm-dialog'));
  const check = /** @type {HTMLInputElement} */ (part('confirm-check'));
  const okBtn = part('confirm-ok');
  localize(part('confirm-title'), title, vars);
  localize(part('confirm-body'), body, vars);
  localize(okBtn, confirm);
  part('confirm-check-label').hidden = !checkbox;
  if (checkbox) localize(part('confirm-check-text'), checkbox);
  check.checked = true;
  dialog.returnValue = 'cancel';
  dialog.showModal();
  okBtn.focus();
  return new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => resolve({ ok: dialog.returnValue === 'ok', checked: !!checkbox && check.checked }),
      { once: true }
    );
  });
}
