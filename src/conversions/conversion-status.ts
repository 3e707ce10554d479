/** Lifecycle of a conversion; values are the postback's spelling. */
export enum ConversionStatus {
  PENDING = "pending",
  APPROVED = "approved",
  REJECTED = "rejected",
  REVERSED = "reversed",
}

export const CONVERSION_STATUSES: readonly ConversionStatus[] = Object.values(ConversionStatus);

const ALLOWED_TRANSITIONS: Readonly<Record<ConversionStatus, readonly ConversionStatus[]>> = {
  [ConversionStatus.PENDING]: [ConversionStatus.APPROVED, ConversionStatus.REJECTED, ConversionStatus.REVERSED],
  [ConversionStatus.APPROVED]: [ConversionStatus.REVERSED],
  [ConversionStatus.REJECTED]: [],
  [ConversionStatus.REVERSED]: [],
};

/** pending → approved | rejected | reversed, approved → reversed; nothing else. */
export function canTransition(from: ConversionStatus, to: ConversionStatus): boolean {
  return ALLOWED_TRANSITIONS[from].includes(to);
}

export function isConversionStatus(value: string): value is ConversionStatus {
  return (CONVERSION_STATUSES as readonly string[]).includes(value);
}

/** How a conversion found its affiliate. */
export enum Attribution {
  CLICK = "click",
  CUSTOMER = "customer",
}

/** Where a conversion came in (bulk imports and connectors are later features; the type knows them already). */
export enum ConversionSource {
  POSTBACK = "postback",
  GRAPHQL = "graphql",
  BULK = "bulk",
  CONNECTOR = "connector",
}
