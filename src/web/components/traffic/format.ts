import type { Units } from '../../api/traffic';
import { speedUnitLabel } from '../../../shared/format';
import { formatNumber, formatPercent, formatSpeed } from '../../lib/format';

/** Formatting of speed-study figures (the console's one formatter): speeds with their unit, shares as percentages. */

export const unitLabel = (units: Units): string => speedUnitLabel(units);

export function speed(value: number | null | undefined, units: Units): string {
  return formatSpeed(value, units);
}

export function percent(value: number | null | undefined): string {
  return formatPercent(value);
}

export function count(value: number): string {
  return formatNumber(value);
}

/** "1 vehicle", "1,200 vehicles": a heatmap legend or a note reads as a sentence. */
export const vehicles = (value: number): string => `${count(value)} vehicle${value === 1 ? '' : 's'}`;

export function hourLabel(hour: number): string {
  return `${String(hour).padStart(2, '0')}:00`;
}

/** YYYY-MM-DD of a Date in the browser's calendar. */
export function isoDay(date: Date): string {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
}

export const PRESETS = {
  '7d': 'Last 7 days',
  '30d': 'Last 30 days',
  'this-month': 'This month',
  'last-month': 'Last month',
  '90d': 'Last 90 days',
  '365d': 'Last 12 months',
  custom: 'Custom range',
} as const;

export type Preset = keyof typeof PRESETS;

/** The calendar dates a preset covers, both inclusive, ending today. */
export function presetRange(preset: Exclude<Preset, 'custom'>, today = new Date()): { from: string; to: string } {
  const daysBack = (n: number) => isoDay(new Date(today.getFullYear(), today.getMonth(), today.getDate() - n));
  switch (preset) {
    case '7d': return { from: daysBack(6), to: isoDay(today) };
    case '30d': return { from: daysBack(29), to: isoDay(today) };
    case '90d': return { from: daysBack(89), to: isoDay(today) };
    case '365d': return { from: daysBack(364), to: isoDay(today) };
    case 'this-month': return { from: isoDay(new Date(today.getFullYear(), today.getMonth(), 1)), to: isoDay(today) };
    case 'last-month': return {
      from: isoDay(new Date(today.getFullYear(), today.getMonth() - 1, 1)),
      to: isoDay(new Date(today.getFullYear(), today.getMonth(), 0)),
    };
  }
}
