// Numbers, dates, durations and sizes in the current language (Intl).

import { language, t } from './i18n.js';

const locale = () => (language() === 'zh-CN' ? 'zh-CN' : 'en-GB');

export function num(n) {
  if (n === null || n === undefined) return t('common.none');
  return new Intl.NumberFormat(locale()).format(n);
}

/** A 0..1 rate as a percentage (one decimal). */
export function pct(r, digits = 1) {
  if (r === null || r === undefined || Number.isNaN(r)) return t('common.none');
  return new Intl.NumberFormat(locale(), {
    style: 'percent',
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(r);
}

/** An epoch-ms time, local date and time. */
export function dateTime(ms) {
  if (ms === null || ms === undefined) return t('common.none');
  return new Intl.DateTimeFormat(locale(), {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  }).format(new Date(ms));
}

/** Time of day with seconds (the "updated at" of live numbers). */
export function clock(ms) {
  return new Intl.DateTimeFormat(locale(), {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).format(new Date(ms));
}

/** A date given as YYYY-MM-DD (kept as a calendar day, no time zone shift). */
export function day(iso) {
  if (!iso) return t('common.none');
  const [y, m, d] = String(iso).split('-').map(Number);
  if (!y || !m || !d) return String(iso);
  return new Intl.DateTimeFormat(locale(), {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    timeZone: 'UTC',
  }).format(new Date(Date.UTC(y, m - 1, d)));
}

/** A duration in ms, in the largest sensible unit. */
export function duration(ms) {
  if (ms === null || ms === undefined) return t('common.none');
  const s = ms / 1000;
  if (s < 60) return t('unit.seconds', { n: Math.round(s) });
  if (s < 3600) return t('unit.minutes', { n: Math.round(s / 60) });
  if (s < 86400) return t('unit.hours', { n: (s / 3600).toFixed(1) });
  return t('unit.days', { n: (s / 86400).toFixed(1) });
}

export function bytes(n) {
  if (n === null || n === undefined) return t('common.none');
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${new Intl.NumberFormat(locale(), { maximumFractionDigits: i ? 1 : 0 }).format(v)} ${units[i]}`;
}

/** A relative "3 minutes ago". */
export function ago(ms) {
  if (ms === null || ms === undefined) return t('common.none');
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' });
  const diff = (ms - Date.now()) / 1000;
  const abs = Math.abs(diff);
  if (abs < 60) return rtf.format(Math.round(diff), 'second');
  if (abs < 3600) return rtf.format(Math.round(diff / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(diff / 3600), 'hour');
  return rtf.format(Math.round(diff / 86400), 'day');
}

export function shortHash(h) {
  return h ? String(h).slice(0, 12) : t('common.none');
}
