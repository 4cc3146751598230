/**
 * The name a metric was declared with, where it differs from the family
 * name it registers under (a counter declared `jobs_total` is the family
 * `jobs`), so that messages name the metric as the user wrote it.
 *
 * @module
 */

const declared = new WeakMap<object, string>();

/** Remembers that `metric` was declared as `name`. */
export function declareName(metric: object, name: string): void {
  declared.set(metric, name);
}

/** The name `collector` was declared with, else its family name. */
export function declaredName(collector: { readonly name: string }): string {
  return declared.get(collector) ?? collector.name;
}
