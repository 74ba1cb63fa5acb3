/**
 * A change to `T` in which every object may be given in part, at any depth. Arrays are whole values:
 * a delta that sets one replaces the base's array (so a stage can name fewer CIDRs or emails than the
 * base, which concatenation could never express).
 */
export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { readonly [K in keyof T]?: DeepPartial<T[K]> }
    : T;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * `base` with `delta` applied: plain objects merge key by key (the base's keys keep their order, new
 * keys follow), anything else in the delta, arrays included, replaces the base's value. A key the delta
 * leaves out or sets to `undefined` keeps the base's value. Neither argument is modified.
 */
export function deepMerge<T>(base: T, delta: DeepPartial<T>): T {
  if (!isPlainObject(base) || !isPlainObject(delta)) return (delta === undefined ? base : delta) as T;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(delta)) {
    if (value === undefined) continue;
    merged[key] = key in base ? deepMerge(base[key], value as DeepPartial<unknown>) : value;
  }
  return merged as T;
}
