import { isIntegerIn, SettingsError, SettingsProblems } from '../../../lib/constructs/settings';

describe('SettingsProblems', () => {
  it('names a field by its group path, and a nested group adds to the same list', () => {
    const stage = new SettingsProblems();
    const service = stage.group('service');
    expect(service.field('minTasks')).toBe('service.minTasks');
    expect(service.group('limits').field('max')).toBe('service.limits.max');
    service.add(`${service.field('minTasks')} is wrong`);
    stage.expect(false, () => 'env is wrong');
    expect(stage.list).toEqual(['service.minTasks is wrong', 'env is wrong']);
  });

  it('builds a message only for a rule that fails', () => {
    const problems = new SettingsProblems();
    const message = jest.fn(() => 'never');
    problems.expect(true, message);
    expect(message).not.toHaveBeenCalled();
    expect(problems.list).toEqual([]);
    expect(() => problems.throwIfAny('Owner')).not.toThrow();
  });

  it('throws one error led by the owner: a lone problem on its line, several as a list', () => {
    const one = new SettingsProblems();
    one.add('a is wrong');
    expect(() => one.throwIfAny('Network')).toThrow(new SettingsError('Network', ['a is wrong']));
    expect(() => one.throwIfAny('Network')).toThrow('Network: a is wrong');

    const two = new SettingsProblems();
    two.add('a is wrong');
    two.add('b is wrong');
    let thrown: unknown;
    try {
      two.throwIfAny('Staging');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(SettingsError);
    expect((thrown as SettingsError).owner).toBe('Staging');
    expect((thrown as SettingsError).problems).toEqual(['a is wrong', 'b is wrong']);
    expect((thrown as Error).message).toBe('Staging: 2 problems:\n  - a is wrong\n  - b is wrong');
  });
});

describe('isIntegerIn', () => {
  it.each([
    [1, 1, 3, true],
    [3, 1, 3, true],
    [0, 1, 3, false],
    [4, 1, 3, false],
    [2.5, 1, 3, false],
    [Number.NaN, 1, 3, false],
  ])('%s in %s..%s is %s', (value, min, max, expected) => {
    expect(isIntegerIn(value, min, max)).toBe(expected);
  });

  it('has no upper bound unless given one', () => {
    expect(isIntegerIn(1e9, 10)).toBe(true);
  });
});
