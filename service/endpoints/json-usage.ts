/** Usage of a JSON answer, read without parsing all of it. */
import { readResponsesUsage, readUsage, type TokenUsage } from '../../runtime/pricing';

/**
 * The last `"usage":` object member of a JSON body, parsed, without parsing the whole body
 * (embeddings bodies can be large): read up to its matching brace. Usage holds only numbers and nested
 * objects, so counting braces is enough; a `"usage"` inside a string is escaped and never matches.
 */
function usageMember(body: string): unknown {
  const at = body.lastIndexOf('"usage"');
  if (at === -1) return undefined;
  const open = body.indexOf('{', at);
  if (open === -1) return undefined;
  let depth = 0;
  for (let i = open; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c === 123) depth++;
    else if (c === 125 && --depth === 0) {
      try {
        return JSON.parse(body.slice(open, i + 1));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** Usage in the completions shape (`prompt_tokens`, `completion_tokens`); unreadable is undefined. */
export const usageOfJson = (body: string): TokenUsage | undefined => readUsage(usageMember(body));

/** Usage in the Responses shape (`input_tokens`, `output_tokens`); unreadable is undefined. */
export const responsesUsageOfJson = (body: string): TokenUsage | undefined =>
  readResponsesUsage(usageMember(body));

/** The top-level `id` of a JSON object body (OpenAI writes it first), or undefined. */
export function idOfJson(body: string): string | undefined {
  const match = /^\s*\{\s*"id"\s*:\s*"([A-Za-z0-9_-]{1,128})"/.exec(body.slice(0, 256));
  if (match) return match[1];
  try {
    const parsed = JSON.parse(body) as { id?: unknown };
    return typeof parsed.id === 'string' ? parsed.id : undefined;
  } catch {
    return undefined;
  }
}
