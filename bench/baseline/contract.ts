/** What the bench and its baseline processes agree on. */
export const BASELINE_DELIVERY_TASK = "bench_post";

export interface BaselinePostPayload {
  url: string;
  id: string;
  type: string;
  data: Record<string, unknown>;
}
