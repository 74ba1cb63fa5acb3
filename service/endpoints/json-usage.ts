/** Usage of a JSON answer in the completions shape (`prompt_tokens`, `completion_tokens`). */
import { readUsage, type TokenUsage } from '../../runtime/pricing';

/**
 * Finds the `usage` object in a JSON response body without parsing the whole body (embeddings bodies
 * can be large): the last `"usage":` member, read up to its matching brace. Usage holds only numbers and
 * nested objects, so counting braces is enough. Unreadable usage is undefined (see `readUsage`).
 */
export function usageOfJson(body: string): TokenUsage | undefined {
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
        return readUsage(JSON.parse(body.slice(open, i + 1)));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
