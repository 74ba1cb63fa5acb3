/**
 * How a construct owns its settings: the construct's module exports
 *
 * - `<Construct>Settings`, the group of the stage config it takes (`StageConfig.network` is a
 *   `NetworkSettings`), each field with its JSDoc and `@default`;
 * - `DEFAULT_<CONSTRUCT>_SETTINGS`, the values `lib/config/base.ts` starts every stage from;
 * - `check<Construct>Settings(settings, problems)`, the one check of those settings, which records
 *   every problem rather than stopping at the first.
 *
 * The construct runs its check on its props (and throws listing every problem, led by its name);
 * `validateStageConfig` runs the same check on the stage config's group (and throws listing every
 * problem of every group, each field named by its path in the stage config). One rule, one message.
 */

/** The problems found in settings, each naming its field with `field()`. */
export class SettingsProblems {
  /**
   * @param at the group's path in the stage config with its dot (`'service.'`), so a problem names
   * `service.minTasks`; `''` when a construct checks its own props (`minTasks`)
   * @param found where the problems go: a group checked for the stage adds to the stage's list
   */
  constructor(
    private readonly at: string = '',
    private readonly found: string[] = [],
  ) {}

  /** The path of a field of the group being checked: `minTasks` -> `service.minTasks`. */
  field(name: string): string {
    return `${this.at}${name}`;
  }

  /** The checker of a group within this one (`group('network')`), adding to the same list. */
  group(name: string): SettingsProblems {
    return new SettingsProblems(`${this.at}${name}.`, this.found);
  }

  /** Records `message()` when `ok` is false. The message is built only then. */
  expect(ok: boolean, message: () => string): void {
    if (!ok) this.found.push(message());
  }

  /** Records a problem. */
  add(message: string): void {
    this.found.push(message);
  }

  get list(): readonly string[] {
    return this.found;
  }

  /** Throws one error listing every problem, led by `owner` (a construct or a stage name). */
  throwIfAny(owner: string): void {
    if (this.found.length > 0) throw new SettingsError(owner, this.found);
  }
}

/** Settings were wrong. The message is led by the owner, then each problem on its own line (or on the same one when alone). */
export class SettingsError extends Error {
  constructor(
    readonly owner: string,
    readonly problems: readonly string[],
  ) {
    super(
      problems.length === 1
        ? `${owner}: ${problems[0]}`
        : `${owner}: ${problems.length} problems:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.name = 'SettingsError';
  }
}

/** Whether `value` is an integer from `min` to `max`. */
export const isIntegerIn = (value: number, min: number, max = Number.MAX_SAFE_INTEGER): boolean =>
  Number.isInteger(value) && value >= min && value <= max;
