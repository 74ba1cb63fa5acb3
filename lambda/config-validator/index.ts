import { GatewayConfigError, parseGatewayConfig } from '../../runtime/gateway-config';
import { HandlerEnv } from '../../runtime/handler-env';

/** What AWS AppConfig sends a Lambda validator (the content is the candidate version, base64). */
export interface AppConfigValidationEvent {
  readonly applicationId?: string;
  readonly configurationProfileId?: string;
  readonly configurationVersion?: string;
  readonly content: string;
  readonly uri?: string;
}

/**
 * AppConfig validator of the gateway document: the same `parseGatewayConfig` the gateway runs on
 * every reload, so a version AppConfig accepts is one every task accepts. AppConfig refuses the
 * version when this throws (the function error), and shows the message: the field at fault.
 * With `STAGE` set it also refuses a document for another stage, which a running gateway would refuse
 * (`stage` cannot change while it runs).
 */
export const handler = async (event: AppConfigValidationEvent): Promise<void> => {
  if (typeof event?.content !== 'string')
    throw new Error('gateway config: the validation event has no base64 content');
  const text = Buffer.from(event.content, 'base64').toString('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`gateway config: (document) is not JSON: ${(err as Error).message}`, { cause: err });
  }
  let stage: string;
  try {
    stage = parseGatewayConfig(doc).stage;
  } catch (err) {
    if (err instanceof GatewayConfigError) {
      // A plain Error: Lambda reports errorType and errorMessage; the message names the field.
      throw new Error(`${err.message} (version ${event.configurationVersion ?? 'unknown'})`, {
        cause: err,
      });
    }
    throw err;
  }
  const expected = process.env[HandlerEnv.stage];
  if (expected && stage !== expected) {
    throw new Error(
      `gateway config: stage must be "${expected}" (this AppConfig environment's stage), got "${stage}"`,
    );
  }
};
