import type { Context, SecretsManagerRotationEvent } from 'aws-lambda';
import {
  createHandlerLogger,
  createHandlerMetrics,
  handlerStage,
  flushMetrics,
} from '../../runtime/powertools';
import { secretsManagerSdk } from '../shared/aws-sdk';
import { lazy } from '../shared/lazy';
import { rotateStep } from './rotation';

const stage = handlerStage();
const logger = createHandlerLogger(stage);
const metrics = createHandlerMetrics(stage);
const secrets = lazy(async () => new (secretsManagerSdk().SecretsManagerClient)({}));

/** Secrets Manager rotation function for the stage's project API key. */
export const handler = async (event: SecretsManagerRotationEvent, context?: Context): Promise<void> => {
  if (context) logger.addContext(context);
  try {
    await rotateStep(event, { logger, metrics, secrets, stage });
  } finally {
    flushMetrics(metrics);
  }
};
