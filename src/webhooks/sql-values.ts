/**
 * The ORM's connection returns timestamptz as Postgres text ("2026-01-02 03:04:05.678901+00");
 * the worker's plain pg pool returns Dates. This accepts both.
 */
export function toDate(value: string | Date): Date;
export function toDate(value: string | Date | null | undefined): Date | null;
export function toDate(value: string | Date | null | undefined): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  if (value === "infinity" || value === "-infinity") return new Date(value === "infinity" ? 8.64e15 : -8.64e15);
  const iso = value.replace(" ", "T").replace(/([+-]\d\d)$/, "$1:00");
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) throw new Error(`not a timestamp: ${value}`);
  return date;
}
