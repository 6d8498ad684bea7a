// How a cloud's last refresh is shown: a status dot (ok / stale / auth error / disabled / new)
// and a reason in words. Times are shown relative ("2 min ago").

const AUTH_CODES = new Set(['unauthenticated', 'permission_denied', 'keychain']);

export function cloudStatus(view) {
  const st = view?.status ?? {};
  if (view && view.enabled === false) return { kind: 'disabled', label: 'Disabled', reason: 'Disabled: not refreshed, machines hidden.' };
  if (st.error) {
    const auth = AUTH_CODES.has(st.error.code);
    return {
      kind: auth ? 'auth' : 'stale',
      label: auth ? 'Credentials problem' : 'Stale',
      reason: st.error.message,
    };
  }
  if (!st.last_ok) return { kind: 'new', label: 'Not refreshed yet', reason: 'Waiting for the first refresh.' };
  return { kind: 'ok', label: 'Up to date', reason: `Refreshed ${relativeTime(st.last_ok)}.` };
}

/** "just now", "42 s ago", "5 min ago", "3 h ago", "2 d ago". */
export function relativeTime(iso, now = Date.now()) {
  const t = typeof iso === 'number' ? iso : Date.parse(iso);
  if (!Number.isFinite(t)) return 'never';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** The pause before the next automatic refresh: short while something is changing. */
export function nextRefreshDelay({ transitioning = false, pendingActions = 0, failed = false } = {}) {
  if (transitioning || pendingActions > 0) return 5_000;
  if (failed) return 60_000;
  return 30_000;
}

/** An error body from the core (or anything thrown) as {code, message, field}. */
export function toErrorBody(e) {
  if (e && typeof e === 'object' && typeof e.message === 'string') {
    return { code: e.code ?? 'internal', message: e.message, field: e.field ?? null };
  }
  return { code: 'internal', message: String(e ?? 'Unknown error') };
}

/** "1 machine", "2 machines", "10,000 machines" (in the user's number format). */
export function plural(n, noun, nouns = `${noun}s`) {
  return `${Number(n).toLocaleString()} ${n === 1 ? noun : nouns}`;
}
