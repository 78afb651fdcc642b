// Parameters: `param(name, default, description)` returns the command line's NAME=VALUE,
// parsed to the default's type, or the default.
import { UsageError } from '../base/errors.ts';
import { registry } from './registry.ts';

const namePattern = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Parses an override to the type of the default, or throws a UsageError naming the parameter. */
export function parseParam(name: string, text: string, defaultValue: string | number | boolean): string | number | boolean {
  if (typeof defaultValue === 'number') {
    // Written as a person writes a number: not '0x10', '1e3' or ' 5', which Number() takes too.
    if (!/^-?(\d+\.?\d*|\.\d+)$/.test(text)) {
      throw new UsageError(`parameter ${name}: '${text}' is not a number (default ${defaultValue})`);
    }
    return Number(text);
  }
  if (typeof defaultValue === 'boolean') {
    const lower = text.toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(lower)) return true;
    if (['false', '0', 'no', 'off', ''].includes(lower)) return false;
    throw new UsageError(`parameter ${name}: '${text}' is not a boolean (true, yes, on or 1; false, no, off, 0 or nothing)`);
  }
  return text;
}

/**
 * Declares a parameter; returns its value for this run. `check` returns a problem description
 * for a value that must be refused before anything runs (a machine name aimed at the shell).
 */
export function param(name: string, defaultValue: string, description?: string, check?: (value: string) => string | undefined): string;
export function param(name: string, defaultValue: number, description?: string, check?: (value: number) => string | undefined): number;
export function param(name: string, defaultValue: boolean, description?: string, check?: (value: boolean) => string | undefined): boolean;
export function param<T extends string | number | boolean>(
  name: string,
  defaultValue: T,
  description = '',
  check?: (value: T) => string | undefined,
): T {
  if (!namePattern.test(name)) throw new UsageError(`parameter name '${name}' is not valid`);
  if (!['string', 'number', 'boolean'].includes(typeof defaultValue)) {
    throw new UsageError(`parameter ${name}: its default must be a string, a number or a boolean (got ${defaultValue === null ? 'null' : Array.isArray(defaultValue) ? 'an array' : `a value of type ${typeof defaultValue}`})`);
  }
  const reg = registry();
  const earlier = reg.params.get(name);
  // The same declaration twice (a helper module called twice) is one parameter; two different ones are a mistake.
  if (earlier && (earlier.defaultValue !== defaultValue || earlier.description !== description)) {
    const differ = earlier.defaultValue !== defaultValue
      ? `default ${JSON.stringify(earlier.defaultValue)} and ${JSON.stringify(defaultValue)}`
      : `description ${JSON.stringify(earlier.description)} and ${JSON.stringify(description)}`;
    throw new UsageError(`parameter ${name} is declared twice, with ${differ}: declare it once`);
  }
  const text = reg.overrides.get(name);
  const value = text === undefined ? defaultValue : parseParam(name, text, defaultValue);
  const problem = check?.(value as T);
  if (problem !== undefined) throw new UsageError(`parameter ${name}: ${JSON.stringify(value)} is not valid: ${problem}`);
  reg.params.set(name, { name, defaultValue, description, value });
  return value as T;
}
