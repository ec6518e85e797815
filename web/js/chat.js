// Chat pane: the meeting's messages (history from `joined.chat`, then `chat` messages) and a
// form that sends `chat` to everyone or to the chair only. Viewers read but cannot send.
//
// Events: `unread` {count} when the number of messages not yet seen changes.

import { localize, onLanguageChange, getLang } from './i18n.js';

/** @typedef {import('./meeting-state.js').MeetingState} MeetingState */
/** @typedef {import('./meeting-state.js').ChatMessage} ChatMessage */

const MAX_CHARS = 1000;

export class ChatPane extends EventTarget {
  /**
   * @param {object} opts
   * @param {MeetingState} opts.meeting
   * @param {{list: HTMLElement, form: HTMLFormElement, input: HTMLTextAreaElement, to: HTMLSelectElement}} opts.els
   * @param {(msg: {type: 'chat', text: string, to: 'all'|'host'}) => boolean} opts.send
   * @param {() => string|null} opts.selfId
   * @param {() => boolean} opts.visible whether the pane is on screen
   */
  constructor({ meeting, els, send, selfId, visible }) {
    super();
    this.meeting = meeting;
    this.els = els;
    this.sendMessage = send;
    this.selfId = selfId;
    this.visible = visible;
    /** Messages already rendered (ids). */
    /** @type {Set<string>} */
    this.rendered = new Set();
    this.unread = 0;

    meeting.addEventListener('change', (ev) => {
      const { part } = /** @type {CustomEvent} */ (ev).detail;
      if (part === 'session') this._renderAll();
      else if (part === 'chat') this._renderNew();
    });
    els.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.submit();
    });
    els.input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        this.submit();
      }
    });
    onLanguageChange(() => this._renderAll());
  }

  /**
   * Viewers cannot send (the bridge refuses it); the chair's own "to" choice stays.
   * @param {boolean} canSend
   */
  setCanSend(canSend) {
    this.els.form.hidden = !canSend;
  }

  /**
   * Send the text in the box (or `text`); the box is emptied once it went out.
   * @param {string} [text]
   * @param {'all'|'host'} [to]
   * @returns {boolean} whether it went out
   */
  submit(text, to) {
    const body = (text ?? this.els.input.value).trim().slice(0, MAX_CHARS);
    if (!body) return false;
    const target = to ?? (this.els.to.value === 'host' ? 'host' : 'all');
    const sent = this.sendMessage({ type: 'chat', text: body, to: target });
    if (sent && text === undefined) this.els.input.value = '';
    return sent;
  }

  /** The pane came on screen: everything is read. */
  markRead() {
    this._setUnread(0);
  }

  _renderAll() {
    this.els.list.replaceChildren();
    this.rendered.clear();
    for (const m of this.meeting.chat) this._append(m);
    this._setUnread(0);
    this._scrollToEnd();
  }

  _renderNew() {
    let fresh = 0;
    for (const m of this.meeting.chat) {
      if (this.rendered.has(m.id)) continue;
      this._append(m);
      if (m.from.id !== this.selfId()) fresh += 1;
    }
    while (this.els.list.childElementCount > this.meeting.chat.length) this.els.list.firstElementChild?.remove();
    this._scrollToEnd();
    if (fresh > 0 && !this.visible()) this._setUnread(this.unread + fresh);
  }

  /** @param {ChatMessage} m */
  _append(m) {
    this.rendered.add(m.id);
    const li = document.createElement('li');
    li.className = 'chat-msg';
    li.dataset.to = m.to;
    const mine = m.from.id === this.selfId();
    if (mine) li.dataset.mine = 'true';
    const head = document.createElement('div');
    head.className = 'chat-head';
    const who = document.createElement('span');
    who.className = 'chat-from';
    if (mine) localize(who, 'chat.me');
    else who.textContent = m.from.name || m.from.id;
    const time = document.createElement('time');
    time.dateTime = m.ts;
    const at = new Date(m.ts);
    time.textContent = Number.isNaN(at.getTime())
      ? ''
      : at.toLocaleTimeString(getLang() === 'vi' ? 'vi-VN' : 'en-GB', { hour: '2-digit', minute: '2-digit' });
    head.append(who, time);
    if (m.to === 'host') {
      const tag = document.createElement('span');
      tag.className = 'chat-tag';
      localize(tag, 'chat.to_host_tag');
      head.append(tag);
    }
    const text = document.createElement('p');
    text.className = 'chat-text';
    text.textContent = m.text;
    li.append(head, text);
    this.els.list.append(li);
  }

  _scrollToEnd() {
    this.els.list.scrollTop = this.els.list.scrollHeight;
  }

  /** @param {number} n */
  _setUnread(n) {
    if (n === this.unread) return;
    this.unread = n;
    this.dispatchEvent(new CustomEvent('unread', { detail: { count: n } }));
  }
}
