import type { EntityManager } from "@mikro-orm/postgresql";
import type { Logger } from "../common/logger";
import type { Hub } from "../context";
import { notifyLive } from "./notify";
import type { LiveTopic, LiveTopics } from "./topics";

type SignalTopic = { [K in LiveTopic]: LiveTopics[K] extends Record<string, never> ? K : never }[LiveTopic];

/** A state the worker watches: sampled every interval; a change is announced on `topic`. */
export interface LiveSample {
  topic: SignalTopic;
  sample: (em: EntityManager) => Promise<unknown>;
}

/**
 * Runs in worker processes. For states that change on every write (queues), sampling
 * once per interval and sending one NOTIFY when the value moved costs one small query
 * per interval instead of a NOTIFY in every writing transaction; api processes then load
 * the state once per interval for all their subscribers (state-feed.ts).
 *
 * Several workers each sample and announce; subscribers are unaffected because the api
 * side throttles and only pushes values that differ.
 */
export class StateSampler {
  private readonly last = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly log: Logger;

  constructor(private readonly hub: Hub, private readonly samples: readonly LiveSample[], private readonly intervalMs: number) {
    this.log = hub.log.child({ component: "live-sampler" });
  }

  start(): void {
    if (this.samples.length === 0) return;
    this.running = this.tick();
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private async tick(): Promise<void> {
    for (const { topic, sample } of this.samples) {
      if (this.stopped) return;
      try {
        const em = this.hub.orm.em.fork();
        const json = JSON.stringify(await sample(em));
        if (this.last.get(topic) !== json) {
          await notifyLive(em, topic, {} as LiveTopics[typeof topic]);
          this.last.set(topic, json);
        }
      } catch (error) {
        this.log.warn({ topic, err: error }, "could not sample live state; will retry");
      }
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => (this.running = this.tick()), this.intervalMs);
  }
}
