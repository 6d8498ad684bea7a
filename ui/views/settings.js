// Settings: refresh pace, what happens while the window is hidden, notifications, close to
// tray and start minimized. Saved by the Rust side (tauri-plugin-store) and applied at once.
import { h } from '../lib/dom.js';
import { api } from '../api.js';
import { modal } from './dialogs.js';
import { toast } from './toast.js';

/** Choices of the idle refresh interval, in seconds. */
export const INTERVALS = [
  [30, 'every 30 seconds'], [60, 'every minute'], [120, 'every 2 minutes'],
  [300, 'every 5 minutes'], [900, 'every 15 minutes'], [3600, 'every hour'],
];

/** A "Settings" button at the foot of `root` (the sidebar). */
export function createSettingsButton(root) {
  const btn = h('button', { type: 'button', class: 'btn btn-ghost settings-button', id: 'open-settings', text: '⚙ Settings', on: { click: openSettings } });
  root.append(h('div', { class: 'sidebar-foot' }, btn));
}

const check = (id, label, checked, help) => h('div', { class: 'field field-check' },
  h('label', { for: id }, h('input', { type: 'checkbox', id, checked }), ' ', label),
  help ? h('p', { class: 'field-help', text: help }) : null);

export async function openSettings() {
  let s;
  try {
    s = await api.getSettings();
  } catch (e) {
    return toast(`Could not read the settings: ${e.message}`, 'error');
  }
  const known = INTERVALS.some(([v]) => v === s.slow_interval_secs);
  const options = known ? INTERVALS : [...INTERVALS, [s.slow_interval_secs, `every ${s.slow_interval_secs} seconds`]];
  const interval = h('select', { id: 'set-interval' }, options.map(([v, label]) =>
    h('option', { value: String(v), selected: v === s.slow_interval_secs, text: label })));
  const radio = (value, label) => h('label', { class: 'radio' },
    h('input', { type: 'radio', name: 'when-hidden', id: `set-hidden-${value}`, value, checked: s.when_hidden === value }), ' ', label);
  const body = [
    h('div', { class: 'field' },
      h('label', { class: 'field-label', for: 'set-interval', text: 'Refresh idle clouds' }), interval,
      h('p', { class: 'field-help', text: 'While a machine is starting or stopping, and for a minute after you act on one, its cloud is refreshed every few seconds.' })),
    h('fieldset', { class: 'field' },
      h('legend', { class: 'field-label', text: 'While the window is hidden' }),
      radio('slow', 'Refresh five times less often'),
      radio('pause', 'Pause refreshing (machines that are changing are still followed)')),
    check('set-notifications', 'Show notifications', s.notifications, 'When an action or a new machine finishes or fails while you are not looking, and when a cloud’s credentials stop working.'),
    check('set-external', 'Also when a machine changes state on its own', s.notify_external_changes, 'For example a machine stopped from the provider’s console or by a crash.'),
    check('set-close-to-tray', 'Closing the window keeps Skydeck in the tray', s.close_to_tray, 'Quit from the tray menu.'),
    check('set-start-minimized', 'Start minimized to the tray', s.start_minimized, null),
  ];
  const external = body[3].querySelector('input');
  const notifications = body[2].querySelector('input');
  const sync = () => { external.disabled = !notifications.checked; };
  notifications.addEventListener('change', sync);
  sync();
  const read = () => ({
    slow_interval_secs: Number(interval.value),
    when_hidden: body[1].querySelector('input[name=when-hidden]:checked')?.value ?? 'slow',
    notifications: notifications.checked,
    notify_external_changes: external.checked,
    close_to_tray: body[4].querySelector('input').checked,
    start_minimized: body[5].querySelector('input').checked,
  });
  const saved = await modal({
    title: 'Settings', body, confirmLabel: 'Save',
    onConfirm: async () => api.saveSettings(read()),
  });
  if (saved) toast('Settings saved.');
}
