import { stagingConfig, StageConfigError, validateStageConfig } from '../../../../lib/config';
import {
  DEFAULT_HANDLERS_SETTINGS,
  GatewayHandlers,
  HandlersSettings,
  checkHandlersSettings,
} from '../../../../lib/constructs/handlers/gateway-handlers';
import { SettingsProblems } from '../../../../lib/constructs/settings';
import { constructStack, resourcesOf, Synthesized, synthConstruct, withChanges } from '../../synth';
import {
  LOG_RETENTION,
  expectHandlerFunction,
  functionsOf,
  handlerProps,
  importedDependencies,
} from './handler-props';

const BAD_SETTINGS: HandlersSettings = {
  canaryModel: 'gpt-4o-mini',
  keyRotationDays: 1001,
  batchInputRetentionDays: 0,
  batchOutputRetentionDays: -2,
};

describe('GatewayHandlers', () => {
  let handlers: GatewayHandlers;
  let s: Synthesized;
  beforeAll(() => {
    const stack = constructStack();
    handlers = new GatewayHandlers(stack, 'Handlers', {
      ...handlerProps(stack),
      ...importedDependencies(stack),
      settings: DEFAULT_HANDLERS_SETTINGS,
    });
    s = synthConstruct(stack);
  });

  it('runs the four handlers on the newest Node.js, ARM64, traced, each with its own log group', () => {
    const fns = functionsOf(s);
    expect(fns).toHaveLength(4);
    for (const fn of fns) expectHandlerFunction(s, fn);
    expect(new Set(fns.map((fn) => fn.LoggingConfig.LogGroup.Ref)).size).toBe(4);
  });

  it('keeps every log group for the configured retention', () => {
    const groups = resourcesOf(s, 'AWS::Logs::LogGroup');
    expect(groups).toHaveLength(4);
    for (const [, group] of groups) expect(group.Properties.RetentionInDays).toBe(LOG_RETENTION);
  });

  it('schedules the canary every minute, reconciliation hourly and the batch poll every 15 minutes', () => {
    const schedules = resourcesOf(s, 'AWS::Events::Rule')
      .map(([, r]) => r.Properties.ScheduleExpression)
      .filter(Boolean)
      .sort();
    expect(schedules).toEqual(['rate(1 hour)', 'rate(1 minute)', 'rate(15 minutes)']);
  });

  it("names each handler's function, role and log group by the handler, under Handlers", () => {
    const ids = Object.keys(s.json.Resources as object);
    for (const name of ['Canary', 'SpendReconciliation', 'KeyRotation', 'Batch']) {
      for (const part of ['Logs', 'Role', 'Function'])
        expect(ids).toContainEqual(expect.stringMatching(new RegExp(`^Handlers${name}${part}[0-9A-F]{8}$`)));
    }
  });

  it('lists every handler for the alarms, each under the name its alarms take', () => {
    expect(handlers.all.map((h) => h.node.id)).toEqual([
      'Canary',
      'SpendReconciliation',
      'KeyRotation',
      'Batch',
    ]);
    expect(handlers.all.map((h) => h.purpose)).toEqual([
      'the once-a-minute canary call to OpenAI',
      "the hourly comparison of metered spend with OpenAI's costs",
      'rotating the OpenAI project key',
      'submitting and collecting Batch API jobs',
    ]);
  });

  describe('settings check', () => {
    const problemsOf = (settings: HandlersSettings, at = ''): readonly string[] => {
      const problems = new SettingsProblems(at);
      checkHandlersSettings(settings, problems);
      return problems.list;
    };

    it('passes the default settings, which are the base config', () => {
      expect(DEFAULT_HANDLERS_SETTINGS).toEqual({
        canaryModel: 'gpt-4o-mini',
        keyRotationDays: 30,
        batchInputRetentionDays: 30,
        batchOutputRetentionDays: 90,
      });
      expect(problemsOf(DEFAULT_HANDLERS_SETTINGS)).toEqual([]);
    });

    it('reports every problem at once, each field by its path', () => {
      expect(problemsOf(BAD_SETTINGS, 'handlers.')).toEqual([
        'handlers.keyRotationDays must be an integer from 1 to 1000, got 1001',
        'handlers.batchInputRetentionDays must be a positive integer, got 0',
        'handlers.batchOutputRetentionDays must be a positive integer, got -2',
      ]);
    });

    it('is what the construct runs on its props, before it makes anything', () => {
      const stack = constructStack();
      expect(
        () =>
          new GatewayHandlers(stack, 'H', {
            ...handlerProps(stack),
            ...importedDependencies(stack),
            settings: BAD_SETTINGS,
          }),
      ).toThrow(
        [
          'GatewayHandlers: 3 problems:',
          '  - keyRotationDays must be an integer from 1 to 1000, got 1001',
          '  - batchInputRetentionDays must be a positive integer, got 0',
          '  - batchOutputRetentionDays must be a positive integer, got -2',
        ].join('\n'),
      );
      expect(stack.node.tryFindChild('H')?.node.children).toHaveLength(0);
    });

    it('is what validateStageConfig runs on StageConfig.handlers, once per field', () => {
      let thrown: unknown;
      try {
        validateStageConfig(withChanges(stagingConfig, (c) => Object.assign(c.handlers, BAD_SETTINGS)));
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(StageConfigError);
      expect((thrown as StageConfigError).problems).toEqual(problemsOf(BAD_SETTINGS, 'handlers.'));
    });
  });
});
