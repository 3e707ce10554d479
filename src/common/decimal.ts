import Decimal from "decimal.js";
import { GraphQLScalarType, Kind } from "graphql";
import { BadUserInputError } from "./errors";

/** Money arithmetic: 40 significant digits, banker-free half-up rounding as accountants expect. */
export const Money = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP, toExpNeg: -40, toExpPos: 40 });
export type Money = Decimal;

const DECIMAL_TEXT = /^-?(0|[1-9]\d*)(\.\d+)?$/;

export interface DecimalRules {
  field: string;
  maxDecimals?: number;
  allowNegative?: boolean;
  maxIntegerDigits?: number;
}

/** Parses a decimal string strictly (no exponents, no floats), naming the field in the error. */
export function parseDecimal(text: unknown, rules: DecimalRules): Decimal {
  const { field, maxDecimals = 8, allowNegative = false, maxIntegerDigits = 12 } = rules;
  if (typeof text !== "string" || !DECIMAL_TEXT.test(text.trim())) {
    throw new BadUserInputError(`${field} must be a decimal string such as "12.50"`, { field });
  }
  const trimmed = text.trim();
  const [integerPart = "", fraction = ""] = trimmed.replace("-", "").split(".");
  if (!allowNegative && trimmed.startsWith("-") && !/^-0(\.0+)?$/.test(trimmed)) {
    throw new BadUserInputError(`${field} must not be negative`, { field });
  }
  if (fraction.length > maxDecimals) {
    throw new BadUserInputError(`${field} must have at most ${maxDecimals} decimal places`, { field });
  }
  if (integerPart.length > maxIntegerDigits) {
    throw new BadUserInputError(`${field} must have at most ${maxIntegerDigits} integer digits`, { field });
  }
  return new Money(trimmed);
}

/** Canonical text for storage and comparison: no trailing zeros, no exponent. */
export function decimalText(value: Decimal | string): string {
  return new Money(value).toFixed();
}

export const DecimalScalar = new GraphQLScalarType<string, string>({
  name: "Decimal",
  description: "An exact decimal number as a string, e.g. \"1234.50\". Never a float.",
  serialize(value) {
    if (value instanceof Decimal) return value.toFixed();
    if (typeof value === "string" && DECIMAL_TEXT.test(value)) return decimalText(value);
    throw new TypeError("Decimal cannot represent a non-decimal value");
  },
  parseValue(value) {
    if (typeof value !== "string" || !DECIMAL_TEXT.test(value)) {
      throw new TypeError("Decimal must be a string such as \"12.50\"");
    }
    return value;
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING || !DECIMAL_TEXT.test(ast.value)) {
      throw new TypeError("Decimal must be a string such as \"12.50\"");
    }
    return ast.value;
  },
});
