import type { SecretsManagerRotationEvent } from 'aws-lambda';
import { createHandlerTools, instrumentedHandler } from '../../runtime/powertools';
import { secretsManagerSdk } from '../shared/aws-sdk';
import { lazy } from '../shared/lazy';
import { rotateStep } from './rotation';

const tools = createHandlerTools();
const secrets = lazy(async () => new (secretsManagerSdk().SecretsManagerClient)({}));

/** Secrets Manager rotation function for the stage's project API key. */
export const handler = instrumentedHandler(tools, (event: SecretsManagerRotationEvent) =>
  rotateStep(event, { ...tools, secrets }),
);
