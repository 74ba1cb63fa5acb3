/** The GatewayError that `run` throws; fails the test when it returns or throws anything else. */
import type OpenAI from 'openai';
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

/** The SDK error a call rejects with, or undefined when it succeeds. */
export const apiErrorOf = (
  call: Promise<unknown>,
): Promise<InstanceType<typeof OpenAI.APIError> | undefined> =>
  call.then(
    () => undefined,
    (e: unknown) => e as InstanceType<typeof OpenAI.APIError>,
  );
