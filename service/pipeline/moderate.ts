/** The optional moderation pre-check: what the model would read goes to `/moderations` first. */
import type { GatewayConfig } from '../../runtime/gateway-config';
import { contentFlagged, upstreamFailed } from '../errors';
import type { AttemptCounts, UpstreamClient } from '../upstream/client';

export interface ModerationInput {
  readonly upstream: UpstreamClient;
  readonly config: GatewayConfig['moderation'];
  /** The text to check (the endpoint spec's `moderationInput`). */
  readonly text: string;
  readonly signal: AbortSignal;
  readonly attempts: AttemptCounts;
}

/** @throws GatewayError 400 `content_flagged` when flagged, 502 when the check itself fails */
export async function moderate(input: ModerationInput): Promise<void> {
  const up = await input.upstream.send({
    path: '/moderations',
    payload: JSON.stringify({ model: input.config.model, input: input.text }),
    signal: input.signal,
    attempts: input.attempts,
  });
  const text = await up.body.text();
  if (up.status !== 200) throw upstreamFailed(`The moderation check failed with status ${up.status}.`);
  let results: unknown;
  try {
    results = (JSON.parse(text) as { results?: unknown }).results;
  } catch {
    results = undefined;
  }
  // An answer without results checked nothing: with moderation on, nothing unchecked reaches the model.
  if (!Array.isArray(results) || results.length === 0) {
    throw upstreamFailed('The moderation check returned an unreadable answer.');
  }
  if (results.some((r) => (r as { flagged?: unknown })?.flagged !== false)) throw contentFlagged();
}
