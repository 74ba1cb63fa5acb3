/** The GatewayError that `run` throws; fails the test when it returns or throws anything else. */
import { GatewayError } from '../../service/errors';

export function refusalOf(run: () => unknown): GatewayError {
  try {
    run();
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('expected a GatewayError');
}
