/**
 * The models the media endpoints (moderations, images, audio) are tested with, priced as in
 * `lib/config/project.ts`, to deep-merge into a harness config: `{ models: MEDIA_MODELS }`; and what
 * the fake upstream's ledger costs at those prices.
 */
import type { ModelPrice } from '../../runtime/gateway-config';
import { costNanos } from '../../runtime/pricing';
import { OPENAI_MEDIA_PRICES } from '../../lib/config/project';
import type { BilledCall } from './fake-openai';

export const MEDIA_MODELS: Readonly<Record<string, ModelPrice>> = {
  ...OPENAI_MEDIA_PRICES,
  'gpt-4o-mini': { inputUsdPer1M: 0.15, outputUsdPer1M: 0.6 },
};

/** Nano-dollars of one billed call at MEDIA_MODELS' prices (per-image calls at their `quality:size`). */
export function billedCallNanos(call: BilledCall): number {
  const price = MEDIA_MODELS[call.model];
  if (!price) throw new Error(`no test price for ${call.model}`);
  const units = { characters: call.characters, seconds: call.seconds };
  if (!call.images) return costNanos(price, { ...call.usage, ...units });
  const usdPerImage = price.imageUsd?.[call.images.variant];
  if (usdPerImage === undefined) throw new Error(`no test price for ${call.model} ${call.images.variant}`);
  return costNanos({ ...price, usdPerImage }, { ...call.usage, images: call.images.count });
}

/** Nano-dollars of everything a fake billed. */
export const billedNanos = (billed: readonly BilledCall[]): number =>
  billed.reduce((sum, call) => sum + billedCallNanos(call), 0);
