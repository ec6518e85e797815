// What a commune hall sees of the chair's controls, above the video grid:
// - a short notice ("Chủ trì đã tắt micrô của bạn"), gone after a few seconds;
// - the chair's request to speak (`unmute_request`): one big button that opens the mic;
// - the roll-call banner while `meeting_state.roll_call.open`: one big "Có mặt" button.

import { localize } from './i18n.js';

/** @typedef {import('./meeting-state.js').RollCallRef} RollCallRef */

const NOTICE_MS = 8000;

export class SitePrompts {
  /**
   * @param {object} opts
   * @param {{notice: HTMLElement, unmutePrompt: HTMLElement, unmuteAccept: HTMLButtonElement,
   *   unmuteDismiss: HTMLButtonElement, rollCallBanner: HTMLElement, rollCallText: HTMLElement,
   *   presentBtn: HTMLButtonElement}} opts.els
   * @param {() => void} opts.onUnmute the site accepts to speak: open the mic
   * @param {() => boolean} opts.onPresent send `roll_call_answer`; whether it went out
   */
  constructor({ els, onUnmute, onPresent }) {
    this.els = els;
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    this.noticeTimer = undefined;
    this.unmuteRequested = false;
    /** @type {RollCallRef|null} */
    this.rollCall = null;
    /** Roll calls this site answered (ids). */
    /** @type {Set<string>} */
    this.answered = new Set();

    els.unmuteAccept.addEventListener('click', () => {
      this.dismissUnmute();
      onUnmute();
    });
    els.unmuteDismiss.addEventListener('click', () => this.dismissUnmute());
    els.presentBtn.addEventListener('click', () => {
      const rc = this.rollCall;
      if (rc?.open && onPresent()) {
        this.answered.add(rc.id);
        this._renderRollCall();
      }
    });
  }

  /**
   * @param {string} key i18n key
   * @param {'info'|'warn'} [tone]
   */
  notify(key, tone = 'info') {
    clearTimeout(this.noticeTimer);
    localize(this.els.notice, key);
    this.els.notice.dataset.tone = tone;
    this.els.notice.hidden = false;
    this.noticeTimer = setTimeout(() => {
      this.els.notice.hidden = true;
    }, NOTICE_MS);
  }

  /** `unmute_request`: ask with one big button. */
  askUnmute() {
    this.unmuteRequested = true;
    this.els.unmutePrompt.hidden = false;
    this.els.unmuteAccept.focus();
  }

  dismissUnmute() {
    this.unmuteRequested = false;
    this.els.unmutePrompt.hidden = true;
  }

  /**
   * The roll call as every site sees it (`meeting_state.roll_call`); null = none.
   * @param {RollCallRef|null} rc
   */
  setRollCall(rc) {
    this.rollCall = rc;
    this._renderRollCall();
  }

  /** @returns {boolean} this site answered the open roll call */
  get answeredOpenRollCall() {
    const rc = this.rollCall;
    return !!rc && this.answered.has(rc.id);
  }

  /** Leaving or a new session: nothing pending. */
  reset() {
    clearTimeout(this.noticeTimer);
    this.els.notice.hidden = true;
    this.dismissUnmute();
    this.setRollCall(null);
  }

  _renderRollCall() {
    const rc = this.rollCall;
    const open = !!rc?.open;
    this.els.rollCallBanner.hidden = !open;
    if (!open) return;
    const done = this.answeredOpenRollCall;
    this.els.rollCallBanner.dataset.answered = String(done);
    localize(this.els.rollCallText, done ? 'roll_call.answered' : 'roll_call.open');
    this.els.presentBtn.hidden = done;
  }
}
