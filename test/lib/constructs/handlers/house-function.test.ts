import { Duration } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { HouseFunction, HouseFunctionProps } from '../../../../lib/constructs/handlers/house-function';
import { constructStack, importedKey, LAMBDA_ROOT } from '../../synth';

describe('HouseFunction', () => {
  const make = (props: Partial<HouseFunctionProps>): HouseFunction => {
    const stack = constructStack();
    return new HouseFunction(stack, 'F', {
      purpose: 'testing',
      lambdaRoot: LAMBDA_ROOT,
      handlerName: 'canary',
      description: 'x',
      timeout: Duration.seconds(3),
      memoryMiB: 128,
      environment: {},
      logRetention: logs.RetentionDays.ONE_WEEK,
      logKey: importedKey(stack),
      ...props,
    });
  };

  it('refuses a handler without an entry file', () => {
    expect(() => make({ handlerName: 'no-such-handler' })).toThrow(
      new Error(
        `HouseFunction: ${LAMBDA_ROOT}/no-such-handler/index.ts does not exist (each handler is lambda/<name>/index.ts)`,
      ),
    );
  });

  it("refuses an environment above Lambda's 4 KB", () => {
    expect(() => make({ environment: { BIG: 'x'.repeat(5000) } })).toThrow(
      /^HouseFunction canary: environment is \d+ bytes, above Lambda's 4096-byte limit$/,
    );
  });
});
