// The chair's console (role `host`): meeting-wide actions (mute all, lock, take the floor
// back, clear the spotlight, end the meeting), the list of every site with its live state and
// per-site actions, the hand queue and the lobby. Every action is one host_* message
// (docs/protocol.md); the bridge checks them all and answers with `meeting_state`, `lobby`,
// `mute_changed`…, which re-render the console.
//
// The site list is keyed by participant id and updated in place (300 rows keep their focus
// and scroll position); search ignores case and Vietnamese diacritics.

import { localize } from './i18n.js';
import { confirmAction } from './confirm-dialog.js';
import { ICONS } from './icons.js';
import { setBadge } from './dom.js';

/** @typedef {import('./meeting-state.js').MeetingState} MeetingState */
/** @typedef {import('./tiles.js').Tile} Tile */
/** @typedef {import('./signaling.js').Message} Message */
/** @typedef {'good'|'poor'|'absent'|'unknown'} LinkQuality */

/**
 * @typedef {object} SiteRow
 * @property {HTMLLIElement} el
 * @property {HTMLElement} name
 * @property {HTMLElement} badges
 * @property {HTMLElement} mic
 * @property {HTMLElement} cam
 * @property {HTMLElement} link
 * @property {HTMLButtonElement} micBtn
 * @property {HTMLButtonElement} floorBtn
 * @property {HTMLButtonElement} spotlightBtn
 * @property {HTMLButtonElement} removeBtn
 * @property {string} key what the row shows now (skip unchanged rows)
 */

const RENDER_DELAY_MS = 50;
/** roll_call status -> link quality shown in the site list */
const LINK_BY_STATUS = /** @type {Record<string, LinkQuality>} */ ({
  present: 'good',
  poor_link: 'poor',
  absent: 'absent',
});

/**
 * What a button's data-action (site rows, hand queue, lobby) or data-host-action (meeting-wide)
 * does; `id` is the row's participant (null for meeting-wide buttons). Removing, ending and
 * locking are handled apart (confirmation, current state).
 * @type {Record<string, (a: HostActions, id: string|null) => boolean>}
 */
const ACTIONS = {
  mute: (a, id) => !!id && a.mute(id),
  unmute: (a, id) => !!id && a.unmute(id),
  floor: (a, id) => !!id && a.floor(id),
  'floor-back': (a) => a.floor(null),
  spotlight: (a, id) => !!id && a.spotlight(id),
  'spotlight-clear': (a) => a.spotlight(null),
  'lower-hand': (a, id) => !!id && a.lowerHand(id),
  admit: (a, id) => !!id && a.admit(id),
  deny: (a, id) => !!id && a.deny(id),
  'mute-all': (a) => a.muteAll(),
};

/**
 * Lower case, no diacritics (đ -> d), for searching Vietnamese names.
 * @param {string} s
 * @returns {string}
 */
function foldForSearch(s) {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/gi, 'd').toLowerCase();
}

/**
 * @param {string} tag
 * @param {string} className
 * @returns {HTMLElement}
 */
function el(tag, className) {
  const e = document.createElement(tag);
  e.className = className;
  return e;
}

/** What each short list (hand queue, lobby) shows now. */
/** @type {WeakMap<HTMLElement, string>} */
const listContent = new WeakMap();

/**
 * Rebuild a short list only when what it shows changed: a rebuild detaches its buttons, and a
 * click landing on a detached button is lost.
 * @param {HTMLElement} list
 * @param {unknown} content
 * @param {() => HTMLElement[]} build
 */
function replaceList(list, content, build) {
  const key = JSON.stringify(content);
  if (listContent.get(list) === key) return;
  listContent.set(list, key);
  list.replaceChildren(...build());
}

/**
 * A mic or camera state icon, named for screen readers and on hover.
 * @param {HTMLElement} span
 * @param {boolean} on
 * @param {string} icon
 * @param {string} key
 */
function stateIcon(span, on, icon, key) {
  span.innerHTML = icon;
  span.dataset.on = String(on);
  localize(span, key, undefined, 'title');
  localize(span, key, undefined, 'aria-label');
}

/**
 * @param {string} action
 * @param {string} [className]
 * @returns {HTMLButtonElement}
 */
function actionButton(action, className = 'act small') {
  const b = /** @type {HTMLButtonElement} */ (el('button', className));
  b.type = 'button';
  b.dataset.action = action;
  return b;
}

/**
 * The host_* messages, one function each (the console's buttons and the test hooks use them).
 * Each returns whether the message went out.
 * @param {(msg: Message) => boolean} send
 */
export function hostActions(send) {
  /** @param {string|null} id */
  const target = (id) => ({ participant_id: id });
  return {
    /** @param {string} id @param {'audio'|'video'} [kind] */
    mute: (id, kind = 'audio') => send({ type: 'host_mute', ...target(id), kind }),
    muteAll: () => send({ type: 'host_mute_all' }),
    /** @param {string} id open its mic (policy permitting) or ask it to speak */
    unmute: (id) => send({ type: 'host_unmute', ...target(id) }),
    /** @param {string|null} id null takes the floor back */
    floor: (id) => send({ type: 'host_floor', ...target(id) }),
    /** @param {string|null} id null clears the spotlight */
    spotlight: (id) => send({ type: 'host_spotlight', ...target(id) }),
    /** @param {string} id @param {boolean} revoke */
    remove: (id, revoke) => send({ type: 'host_remove', ...target(id), revoke }),
    /** @param {boolean} locked */
    lock: (locked) => send({ type: 'host_lock', locked }),
    /** @param {string} id */
    admit: (id) => send({ type: 'host_admit', ...target(id) }),
    /** @param {string} id */
    deny: (id) => send({ type: 'host_deny', ...target(id) }),
    /** @param {string} id */
    lowerHand: (id) => send({ type: 'host_lower_hand', ...target(id) }),
    end: () => send({ type: 'host_end' }),
    rollCallStart: () => send({ type: 'roll_call_start' }),
    rollCallStop: () => send({ type: 'roll_call_stop' }),
  };
}

/** @typedef {ReturnType<typeof hostActions>} HostActions */

export class HostConsole {
  /**
   * @param {object} opts
   * @param {MeetingState} opts.meeting
   * @param {HostActions} opts.actions
   * @param {() => Tile[]} opts.participants everyone else in the room
   * @param {{panel: HTMLElement, actions: HTMLElement, search: HTMLInputElement,
   *   filter: HTMLSelectElement, count: HTMLElement, siteList: HTMLElement,
   *   handList: HTMLElement, handsEmpty: HTMLElement, lobbyList: HTMLElement,
   *   lobbyNote: HTMLElement, attention: HTMLElement}} opts.els
   */
  constructor({ meeting, actions, participants, els }) {
    this.meeting = meeting;
    this.actions = actions;
    this.participants = participants;
    this.els = els;
    /** @type {Map<string, SiteRow>} */
    this.rows = new Map();
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    this.timer = undefined;
    this.enabled = false;

    meeting.addEventListener('change', () => this.renderSoon());
    els.search.addEventListener('input', () => this.renderSoon());
    els.filter.addEventListener('change', () => this.renderSoon());
    els.actions.addEventListener('click', (ev) => this._onMeetingAction(ev));
    els.siteList.addEventListener('click', (ev) => this._onSiteAction(ev));
    els.handList.addEventListener('click', (ev) => this._onSiteAction(ev));
    els.lobbyList.addEventListener('click', (ev) => this._onSiteAction(ev));
  }

  /** @param {boolean} on this client is a host */
  setEnabled(on) {
    this.enabled = on;
    this.renderSoon();
  }

  /** Re-render shortly (bursts of messages are folded into one render). */
  renderSoon() {
    if (!this.enabled || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.render();
    }, RENDER_DELAY_MS);
  }

  render() {
    if (!this.enabled) return;
    const people = this.participants();
    this._renderMeetingActions();
    this._renderSites(people);
    this._renderHands(people);
    this._renderLobby();
    const { hands } = this.meeting.state;
    setBadge(this.els.panel, 'sites', people.length);
    setBadge(this.els.panel, 'hands', hands.length);
    setBadge(this.els.panel, 'lobby', this.meeting.lobby.length);
    setBadge(this.els.attention, 'attention', hands.length + this.meeting.lobby.length);
  }

  /**
   * @param {string} id
   * @returns {string}
   */
  _name(id) {
    const p = this.participants().find((t) => t.id === id);
    return p?.name || this.meeting.lobby.find((w) => w.id === id)?.name || id;
  }

  /** @returns {Map<string, LinkQuality>} per participant, from the last roll call */
  _linkQualities() {
    /** @type {Map<string, LinkQuality>} */
    const out = new Map();
    for (const e of this.meeting.rollCall?.entries ?? []) {
      if (e.participant_id) out.set(e.participant_id, LINK_BY_STATUS[e.status] ?? 'unknown');
    }
    return out;
  }

  _renderMeetingActions() {
    const { locked, floor, spotlight } = this.meeting.state;
    for (const b of this.els.actions.querySelectorAll('[data-host-action]')) {
      const btn = /** @type {HTMLButtonElement} */ (b);
      switch (btn.dataset.hostAction) {
        case 'lock':
          btn.setAttribute('aria-pressed', String(locked));
          localize(btn, locked ? 'host.unlock' : 'host.lock');
          break;
        case 'floor-back':
          btn.hidden = !floor;
          if (floor) localize(btn, 'host.floor_back_named', { name: this._name(floor) });
          break;
        case 'spotlight-clear':
          btn.hidden = !spotlight || spotlight === floor;
          break;
      }
    }
  }

  /** @param {Tile[]} people */
  _renderSites(people) {
    const { hands, floor } = this.meeting.state;
    const links = this._linkQualities();
    const query = foldForSearch(this.els.search.value.trim());
    const filter = this.els.filter.value;
    const rank = (/** @type {Tile} */ p) => (p.id === floor ? -1 : hands.includes(p.id) ? hands.indexOf(p.id) : hands.length);
    const sorted = [...people].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name, 'vi'));

    const seen = new Set();
    let shown = 0;
    let previous = /** @type {Element|null} */ (null);
    for (const p of sorted) {
      seen.add(p.id);
      const row = this.rows.get(p.id) ?? this._createRow(p.id);
      const link = links.get(p.id) ?? 'unknown';
      this._updateRow(row, p, link);
      const match =
        (!query || foldForSearch(p.name).includes(query)) &&
        (filter === 'all' ||
          (filter === 'hand' && hands.includes(p.id)) ||
          (filter === 'mic_on' && !p.muted.audio && p.tracks.has('audio')) ||
          (filter === 'poor_link' && (link === 'poor' || link === 'absent')));
      row.el.hidden = !match;
      if (match) shown += 1;
      // Move only rows that are out of place (moving a node drops its focus).
      const expected = previous ? previous.nextElementSibling : this.els.siteList.firstElementChild;
      if (expected !== row.el) {
        if (previous) previous.after(row.el);
        else this.els.siteList.prepend(row.el);
      }
      previous = row.el;
    }
    for (const [id, row] of this.rows) {
      if (seen.has(id)) continue;
      row.el.remove();
      this.rows.delete(id);
    }
    localize(
      this.els.count,
      people.length === 0 ? 'host.count_none' : 'host.count',
      { shown, total: people.length }
    );
  }

  /**
   * @param {string} id
   * @returns {SiteRow}
   */
  _createRow(id) {
    const li = /** @type {HTMLLIElement} */ (el('li', 'site-row'));
    li.dataset.participantId = id;
    const main = el('div', 'site-main');
    const name = el('span', 'site-name');
    const badges = el('span', 'site-badges');
    main.append(name, badges);
    const state = el('div', 'site-state');
    const mic = el('span', 'state');
    const cam = el('span', 'state');
    mic.setAttribute('role', 'img');
    cam.setAttribute('role', 'img');
    const link = el('span', 'state link');
    state.append(mic, cam, link);
    const acts = el('div', 'site-actions');
    const micBtn = actionButton('mic');
    const floorBtn = actionButton('floor');
    const spotlightBtn = actionButton('spotlight');
    const removeBtn = actionButton('remove', 'act small danger');
    acts.append(micBtn, floorBtn, spotlightBtn, removeBtn);
    li.append(main, state, acts);
    /** @type {SiteRow} */
    const row = { el: li, name, badges, mic, cam, link, micBtn, floorBtn, spotlightBtn, removeBtn, key: '' };
    this.rows.set(id, row);
    return row;
  }

  /**
   * @param {SiteRow} row
   * @param {Tile} p
   * @param {LinkQuality} link
   */
  _updateRow(row, p, link) {
    const { hands, floor, spotlight, policy } = this.meeting.state;
    const hand = hands.indexOf(p.id) + 1;
    const host = p.role === 'host';
    const hasMic = p.tracks.has('audio');
    const micOn = hasMic && !p.muted.audio;
    const camOn = p.tracks.has('video') && !p.muted.video;
    const key = JSON.stringify([p.name, hand, host, hasMic, micOn, camOn, link, floor === p.id, spotlight === p.id, policy.host_may_unmute]);
    if (key === row.key) return;
    row.key = key;
    const vars = { name: p.name || p.id };

    row.name.textContent = p.name || p.id;
    row.badges.replaceChildren();
    const badge = (/** @type {string} */ k, /** @type {string} */ cls, /** @type {Record<string, number>} */ v = {}) => {
      const b = el('span', `pill ${cls}`);
      localize(b, k, v);
      row.badges.append(b);
    };
    if (host) badge('host.badge_host', 'host');
    if (hand) badge('host.badge_hand', 'hand', { n: hand });
    if (floor === p.id) badge('host.badge_floor', 'floor');
    else if (spotlight === p.id) badge('host.badge_spotlight', 'spotlight');
    row.el.dataset.hand = String(hand);
    row.el.dataset.micOn = String(micOn);

    stateIcon(row.mic, micOn, micOn ? ICONS.micOn : ICONS.micOff,
      !hasMic ? 'host.state_no_mic' : micOn ? 'host.state_mic_on' : 'host.state_mic_off');
    stateIcon(row.cam, camOn, camOn ? ICONS.camOn : ICONS.camOff, camOn ? 'host.state_cam_on' : 'host.state_cam_off');
    row.link.dataset.quality = link;
    localize(row.link, `host.link_${link}`);
    localize(row.link, 'host.link_hint', undefined, 'title');

    const micKey = micOn ? 'host.mute' : policy.host_may_unmute ? 'host.open_mic' : 'host.ask_to_speak';
    localize(row.micBtn, micKey);
    localize(row.micBtn, `${micKey}_named`, vars, 'aria-label');
    row.micBtn.disabled = !hasMic || host;
    row.micBtn.dataset.action = micOn ? 'mute' : 'unmute';
    const hasFloor = floor === p.id;
    localize(row.floorBtn, hasFloor ? 'host.floor_back' : 'host.give_floor');
    localize(row.floorBtn, hasFloor ? 'host.floor_back_named' : 'host.give_floor_named', vars, 'aria-label');
    row.floorBtn.dataset.action = hasFloor ? 'floor-back' : 'floor';
    row.floorBtn.disabled = host;
    const pinned = spotlight === p.id;
    localize(row.spotlightBtn, pinned ? 'host.spotlight_clear' : 'host.spotlight');
    localize(row.spotlightBtn, pinned ? 'host.spotlight_clear' : 'host.spotlight_named', vars, 'aria-label');
    row.spotlightBtn.setAttribute('aria-pressed', String(pinned));
    row.spotlightBtn.dataset.action = pinned ? 'spotlight-clear' : 'spotlight';
    localize(row.removeBtn, 'host.remove');
    localize(row.removeBtn, 'host.remove_named', vars, 'aria-label');
    row.removeBtn.hidden = host;
  }

  /** @param {Tile[]} people */
  _renderHands(people) {
    const { hands } = this.meeting.state;
    const known = new Set(people.map((p) => p.id));
    const queue = hands.filter((id) => known.has(id));
    this.els.handsEmpty.hidden = hands.length > 0;
    replaceList(this.els.handList, queue.map((id) => [id, this._name(id)]), () =>
      queue.map((id, i) => {
        const li = el('li', 'queue-item');
        li.dataset.participantId = id;
        const pos = el('span', 'queue-pos');
        pos.textContent = String(i + 1);
        const name = el('span', 'queue-name');
        name.textContent = this._name(id);
        const floor = actionButton('floor', 'act small primary-act');
        localize(floor, 'host.give_floor');
        localize(floor, 'host.give_floor_named', { name: this._name(id) }, 'aria-label');
        const lower = actionButton('lower-hand');
        localize(lower, 'host.lower_hand');
        localize(lower, 'host.lower_hand_named', { name: this._name(id) }, 'aria-label');
        li.append(pos, name, floor, lower);
        return li;
      })
    );
  }

  _renderLobby() {
    const { lobby } = this.meeting;
    const on = this.meeting.state.lobby;
    localize(this.els.lobbyNote, !on ? 'host.lobby_off' : lobby.length === 0 ? 'host.lobby_empty' : 'host.lobby_waiting', { n: lobby.length });
    replaceList(this.els.lobbyList, lobby, () =>
      lobby.map((w) => {
        const li = el('li', 'queue-item');
        li.dataset.participantId = w.id;
        const name = el('span', 'queue-name');
        name.textContent = w.name;
        const admit = actionButton('admit', 'act small primary-act');
        localize(admit, 'host.admit');
        localize(admit, 'host.admit_named', { name: w.name }, 'aria-label');
        const deny = actionButton('deny', 'act small danger');
        localize(deny, 'host.deny');
        localize(deny, 'host.deny_named', { name: w.name }, 'aria-label');
        li.append(name, admit, deny);
        return li;
      })
    );
  }

  /** @param {Event} ev */
  async _onMeetingAction(ev) {
    const btn = /** @type {HTMLElement|null} */ (/** @type {HTMLElement} */ (ev.target).closest('[data-host-action]'));
    const action = btn?.dataset.hostAction;
    if (action === 'end') {
      const answer = await confirmAction({ title: 'host.end_title', body: 'host.end_body', confirm: 'host.end_confirm' });
      if (answer.ok) this.actions.end();
    } else if (action === 'lock') {
      this.actions.lock(!this.meeting.state.locked);
    } else if (action && action in ACTIONS) {
      ACTIONS[action](this.actions, null);
    }
  }

  /** @param {Event} ev */
  async _onSiteAction(ev) {
    const btn = /** @type {HTMLButtonElement|null} */ (/** @type {HTMLElement} */ (ev.target).closest('button[data-action]'));
    const id = btn?.closest('[data-participant-id]')?.getAttribute('data-participant-id');
    const action = btn?.dataset.action;
    if (!btn || !id || !action || btn.disabled) return;
    if (action === 'remove') {
      const answer = await confirmAction({
        title: 'host.remove_title',
        body: 'host.remove_body',
        confirm: 'host.remove_confirm',
        checkbox: 'host.remove_revoke',
        vars: { name: this._name(id) },
      });
      if (answer.ok) this.actions.remove(id, answer.checked);
    } else if (action in ACTIONS) {
      ACTIONS[action](this.actions, id);
    }
  }
}
