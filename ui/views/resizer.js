// The drag handle between sidebar and table; its width is a UI preference.
import { prefs } from '../api.js';

const MIN = 180;
const MAX = 420;

export async function createResizer(handle) {
  const root = document.documentElement;
  const set = (w) => {
    const px = Math.round(Math.max(MIN, Math.min(MAX, w)));
    root.style.setProperty('--sidebar-w', `${px}px`);
    handle.setAttribute('aria-valuenow', String(px));
    return px;
  };
  handle.setAttribute('aria-valuemin', String(MIN));
  handle.setAttribute('aria-valuemax', String(MAX));
  const width = () => parseInt(getComputedStyle(root).getPropertyValue('--sidebar-w'), 10) || 240;
  handle.addEventListener('pointerdown', (e) => {
    handle.setPointerCapture(e.pointerId);
    const move = (ev) => set(ev.clientX);
    const up = () => {
      handle.removeEventListener('pointermove', move);
      prefs.set('sidebarWidth', width());
    };
    handle.addEventListener('pointermove', move);
    handle.addEventListener('pointerup', up, { once: true });
  });
  handle.addEventListener('keydown', (e) => {
    const step = e.key === 'ArrowLeft' ? -16 : e.key === 'ArrowRight' ? 16 : 0;
    if (!step) return;
    e.preventDefault();
    prefs.set('sidebarWidth', set(width() + step));
  });
  const saved = await (await prefs.load()).get('sidebarWidth', null);
  if (saved) set(saved);
}
