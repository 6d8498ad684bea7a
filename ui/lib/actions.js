// Action buttons from what the core says a machine allows in its current state. No provider is
// named here: `machine.actions` already holds the provider's per-state table filtered by its
// capabilities.

export const ACTIONS = {
  start: { label: 'Start', running: 'Starting…', bulk: true },
  stop: { label: 'Stop', running: 'Stopping…', bulk: true },
  reboot: { label: 'Reboot', running: 'Rebooting…', bulk: true },
  suspend: { label: 'Suspend', running: 'Suspending…' },
  resume: { label: 'Resume', running: 'Resuming…' },
  force_off: {
    label: 'Power off…', running: 'Powering off…', danger: true,
    confirm: 'This cuts the power without a clean shutdown, like pulling the plug: unsaved data on the machine may be lost.',
  },
  rename: { label: 'Rename…', running: 'Renaming…', prompt: true },
  tag: { label: 'Tags…', running: 'Saving tags…', prompt: true },
  destroy: { label: 'Destroy…', running: 'Destroying…', danger: true, confirmByName: true },
};

/** What a row and the details panel show while `action` runs. */
export function runningLabel(action) {
  return ACTIONS[action]?.running ?? `${action}…`;
}

const ORDER = ['start', 'resume', 'stop', 'suspend', 'reboot', 'force_off', 'rename', 'tag', 'destroy'];

/** The buttons of a machine's details panel, in a fixed order; none while an action runs. */
export function actionButtons(machine, pending = null) {
  const allowed = new Set(machine?.actions ?? []);
  return ORDER.filter((a) => allowed.has(a) && ACTIONS[a]).map((a) => ({
    action: a,
    ...ACTIONS[a],
    disabled: Boolean(pending),
  }));
}

/**
 * Bulk actions for a selection: start/stop/reboot, each with the machines that allow it.
 * An action is offered when at least one selected machine allows it.
 */
export function bulkActions(machines) {
  return ORDER.filter((a) => ACTIONS[a].bulk)
    .map((a) => ({ action: a, label: ACTIONS[a].label, machines: machines.filter((m) => (m.actions ?? []).includes(a)) }))
    .filter((b) => b.machines.length > 0);
}

/** Destroy needs the machine's exact name typed (or its id when it has no name). */
export function destroyConfirmed(machine, typed) {
  const expected = machine.name || machine.id;
  return typeof typed === 'string' && typed.trim() === expected.trim() && expected.trim() !== '';
}

/** Parses the tag editor's text ("key=value" per line, or "key" alone) into a tag map. */
export function parseTags(text) {
  const tags = {};
  const errors = [];
  String(text ?? '').split('\n').forEach((line, i) => {
    const t = line.trim();
    if (!t) return;
    const eq = t.indexOf('=');
    const key = (eq === -1 ? t : t.slice(0, eq)).trim();
    const value = eq === -1 ? '' : t.slice(eq + 1).trim();
    if (!key) errors.push(`line ${i + 1}: a tag needs a key before '='`);
    else tags[key] = value;
  });
  return { tags, errors };
}

export function formatTags(tags) {
  return Object.entries(tags ?? {}).map(([k, v]) => (v === '' ? k : `${k}=${v}`)).join('\n');
}
