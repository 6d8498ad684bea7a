// The activity log as table rows: newest first, times in the user's locale, results in words.

/** One display row per entry: {id, when, whenTitle, cloud, machine, action, detail, result, error}. */
export function activityRows(entries, { locale, now = Date.now(), keys = [] } = {}) {
  const keyName = new Map(keys.map((k) => [k.id, k.name]));
  return [...(entries ?? [])]
    .sort((a, b) => String(b.at).localeCompare(String(a.at)) || (b.id ?? 0) - (a.id ?? 0))
    .map((e) => {
      const t = Date.parse(e.at);
      return {
        id: e.id,
        when: Number.isFinite(t) ? shortTime(t, now, locale) : String(e.at ?? ''),
        whenTitle: Number.isFinite(t) ? new Date(t).toLocaleString(locale) : '',
        cloud: e.cloud_title || e.cloud_id || '',
        machine: e.machine_name || e.machine_id || '—',
        machineId: e.machine_id ?? '',
        action: actionLabel(e.action),
        detail: keyNames(e.detail ?? '', keyName),
        result: e.result === 'ok' ? 'ok' : 'error',
        error: e.error ? e.error.message : '',
      };
    });
}

/** Today: the time; this year: day and month with time; else the full date. */
export function shortTime(t, now = Date.now(), locale) {
  const d = new Date(t);
  const n = new Date(now);
  const time = d.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' });
  if (d.toDateString() === n.toDateString()) return time;
  if (d.getFullYear() === n.getFullYear()) return `${d.toLocaleDateString(locale, { day: 'numeric', month: 'short' })} ${time}`;
  return d.toLocaleDateString(locale, { year: 'numeric', month: 'short', day: 'numeric' });
}

/** 'force_off' → 'Force off', 'create' → 'Create'. */
export function actionLabel(a) {
  const s = String(a ?? '').replace(/_/g, ' ');
  return s ? s[0].toUpperCase() + s.slice(1) : '';
}

/** A create's detail names its key by id (stable); show the key's name while it exists. */
function keyNames(detail, names) {
  return detail.replace(/\bkey ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b/g, (m, id) => (names.has(id) ? `key ${names.get(id)}` : m));
}
