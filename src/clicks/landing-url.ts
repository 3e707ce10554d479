import { BadUserInputError } from "../common/errors";

export const CLICK_ID_MACRO = "{click_id}";
export const MAX_LANDING_URL_LENGTH = 2048;

/** A campaign's landing URL: absolute http(s), containing {click_id}, and still a URL once filled in. */
export function validateLandingUrl(template: string, field = "landingUrl"): string {
  const trimmed = template.trim();
  if (trimmed.length > MAX_LANDING_URL_LENGTH) {
    throw new BadUserInputError(`${field} must be at most ${MAX_LANDING_URL_LENGTH} characters`, { field });
  }
  if (!trimmed.includes(CLICK_ID_MACRO)) throw new BadUserInputError(`${field} must contain ${CLICK_ID_MACRO}`, { field });
  let url: URL;
  try {
    url = new URL(fillLandingUrl(trimmed, "00000000-0000-7000-8000-000000000000"));
  } catch {
    throw new BadUserInputError(`${field} must be an absolute URL`, { field });
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new BadUserInputError(`${field} must be an http or https URL`, { field });
  }
  return trimmed;
}

/** Every {click_id} becomes the click id, percent-encoded so it cannot break out of its URL part. */
export function fillLandingUrl(template: string, clickId: string): string {
  return template.split(CLICK_ID_MACRO).join(encodeURIComponent(clickId));
}
