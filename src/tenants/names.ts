import { BadUserInputError } from "../common/errors";

export const MAX_NAME_LENGTH = 200;

/** Display names: trimmed, 1-200 characters, no control characters. */
export function cleanName(value: string, field = "name"): string {
  const name = value.trim();
  if (name.length === 0 || name.length > MAX_NAME_LENGTH || [...name].some((char) => char < " " || char === "\u007f")) {
    throw new BadUserInputError(`${field} must be 1-${MAX_NAME_LENGTH} printable characters`, { field });
  }
  return name;
}
