import type { Hub } from "../context";
import { recordConversions, type ConversionSubmission, type RecordedConversion } from "./conversion.service";

/** Largest batch: bounds one transaction's size and the wait of its first item. */
export const MAX_BATCH_SIZE = 100;
/** Transactions in flight at once; more would mostly split the work into smaller batches. */
export const MAX_CONCURRENT_BATCHES = 2;

interface Waiting {
  submission: ConversionSubmission;
  resolve(result: RecordedConversion): void;
  reject(error: Error): void;
}

/**
 * Opportunistic batching for postbacks: a submission that arrives while fewer than
 * MAX_CONCURRENT_BATCHES transactions are running starts one at once (no added latency
 * when idle); the ones that arrive meanwhile ride together in the next transaction. A
 * transaction per request costs far more than the work it guards (BEGIN, COMMIT and the
 * ORM's transaction set-up), so under load this multiplies throughput. Every item
 * still gets its own answer: recordConversions() decides each as if sent alone, in order.
 */
export class ConversionBatcher {
  private readonly waiting: Waiting[] = [];
  private running = 0;

  constructor(private readonly hub: Hub) {}

  submit(submission: ConversionSubmission): Promise<RecordedConversion> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ submission, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < MAX_CONCURRENT_BATCHES && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, MAX_BATCH_SIZE);
      this.running++;
      void this.run(batch).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async run(batch: Waiting[]): Promise<void> {
    try {
      const results = await recordConversions(this.hub.orm.em.fork(), this.hub.metrics, batch.map((item) => item.submission));
      batch.forEach((item, index) => {
        const result = results[index]!;
        if (result instanceof Error) item.reject(result);
        else item.resolve(result);
      });
    } catch (error: unknown) {
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const item of batch) item.reject(failure);
    }
  }
}
