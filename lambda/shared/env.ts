/** A handler setting is missing or malformed. Handlers report it as a `config` failure. */
export class HandlerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HandlerConfigError';
  }
}

/** The value of environment variable `name`. @throws HandlerConfigError when it is unset or empty */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new HandlerConfigError(`environment variable ${name} is not set`);
  return value;
}

/** A positive integer from environment variable `name`, or `fallback` when unset. */
export function positiveIntEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new HandlerConfigError(`environment variable ${name} must be a positive integer, got "${raw}"`);
  }
  return value;
}
