import { defaultFieldResolver, getNamedType, GraphQLError, isCompositeType, isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from "graphql";
import { Counter, type Registry } from "prom-client";
import { OperationStoppedError } from "../common/errors";
import type { RequestContext } from "../context";

/**
 * One GraphQL operation's execution budget: a deadline, its client's presence, and how
 * many object-typed fields it may resolve at once.
 *
 * graphql-js 16 cannot cancel an execution, so the schema's object-typed fields (where the
 * lookups and lists are) are wrapped once (`guardResolvers`): each asks the operation's
 * guard first. Once the guard has stopped, no further field starts, fields waiting for a
 * slot fail, and fields still running are raced so the answer goes out at once (their
 * database query finishes on its own, its result unused). A mutation's root field is never
 * raced: its transaction commits or rolls back whole, and the client gets that answer.
 *
 * The concurrency bound is what keeps one heavy operation from queueing thousands of
 * queries on the shared ORM pool ahead of everyone else's postbacks.
 */
export type StopReason = "deadline" | "client_closed";

export interface OperationGuardOptions {
  /** Object-typed fields resolving at once. */
  readonly concurrency: number;
  /** Stop after this long; undefined: no deadline (subscriptions). */
  readonly timeoutMs: number | undefined;
  /** Checked before each field: false once the client no longer wants the answer (graphql-ws `complete`). */
  readonly stillWanted?: () => boolean;
  readonly onStop?: (reason: StopReason) => void;
}

export class OperationGuard {
  private readonly controller = new AbortController();
  /** Aborted when the operation stops or finishes; for services that can stop early. */
  readonly signal = this.controller.signal;
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly timer: NodeJS.Timeout | undefined;
  private stopError: GraphQLError | undefined;
  private readonly stopped: Promise<never>;
  private rejectStopped: (error: GraphQLError) => void = () => {};

  constructor(private readonly options: OperationGuardOptions) {
    this.stopped = new Promise<never>((_resolve, reject) => (this.rejectStopped = reject));
    this.stopped.catch(() => undefined);
    if (options.timeoutMs !== undefined) {
      const timeoutMs = options.timeoutMs;
      this.timer = setTimeout(
        () => this.stop("deadline", `The operation ran past its execution deadline of ${timeoutMs} ms and was stopped (GRAPHQL_EXECUTION_TIMEOUT_MS)`),
        timeoutMs,
      );
      this.timer.unref();
    }
  }

  /** The client left: stop resolving. */
  clientGone(): void {
    this.stop("client_closed", "The client closed the request");
  }

  /** The operation is over (answered): drop the deadline, tell signal-aware work to stop. */
  finish(): void {
    clearTimeout(this.timer);
    if (!this.controller.signal.aborted) this.controller.abort();
  }

  /** Runs one field resolver within the budget; `raceable: false` lets a started resolver finish whatever happens. */
  run<T>(resolve: () => T, raceable: boolean): T | Promise<Awaited<T>> {
    this.throwIfStopped();
    if (this.running < this.options.concurrency) return this.start(resolve, raceable);
    return new Promise<Awaited<T>>((resolvePromise, reject) => {
      this.waiting.push(() => {
        try {
          this.throwIfStopped();
          resolvePromise(this.start(resolve, raceable) as Awaited<T>);
        } catch (error) {
          reject(error);
        }
      });
    });
  }

  private start<T>(resolve: () => T, raceable: boolean): T | Promise<Awaited<T>> {
    this.running += 1;
    let result: T;
    try {
      result = resolve();
    } catch (error) {
      this.release();
      throw error;
    }
    if (!isPromiseLike(result)) {
      this.release();
      return result;
    }
    const settled = Promise.resolve(result).finally(() => this.release());
    return raceable ? Promise.race([settled, this.stopped]) : settled;
  }

  private release(): void {
    this.running -= 1;
    this.waiting.shift()?.();
  }

  private throwIfStopped(): void {
    if (!this.stopError && this.options.stillWanted && !this.options.stillWanted()) this.clientGone();
    if (this.stopError) throw this.stopError;
  }

  private stop(reason: StopReason, message: string): void {
    if (this.stopError || this.controller.signal.aborted) return;
    const cause = new OperationStoppedError(message, reason === "deadline" ? "EXECUTION_TIMEOUT" : "CLIENT_CLOSED_REQUEST");
    // Every field that fails from now on fails with this one error. Its (root) path makes
    // graphql-js take it as it is instead of wrapping it anew for each of what can be
    // tens of thousands of waiting fields, which would itself hold the event loop.
    this.stopError = new GraphQLError(message, { path: [], originalError: cause });
    clearTimeout(this.timer);
    this.controller.abort(cause);
    this.rejectStopped(this.stopError);
    this.options.onStop?.(reason);
    for (const wake of this.waiting.splice(0)) wake();
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

const GUARD = Symbol("operationGuard");
const GUARDED = Symbol("guardedResolver");

/** The request context with its operation's guard (and the guard's signal for services). */
export function withOperationGuard<C extends RequestContext>(context: C, guard: OperationGuard): C {
  return Object.assign(context, { signal: guard.signal, [GUARD]: guard });
}

function guardOf(context: unknown): OperationGuard | undefined {
  return (context as { [GUARD]?: OperationGuard } | null | undefined)?.[GUARD];
}

/**
 * Wraps every object-typed field of the schema's own types once (idempotent: the HTTP
 * and WebSocket servers share one schema). Scalar fields read what their parent already
 * loaded and are left alone; so are introspection's types.
 */
export function guardResolvers(schema: GraphQLSchema): void {
  const mutationType = schema.getMutationType();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("__")) continue;
    const raceable = type !== mutationType;
    for (const field of Object.values(type.getFields())) {
      if (!isCompositeType(getNamedType(field.type))) continue;
      const marked = field as typeof field & { [GUARDED]?: true };
      if (marked[GUARDED]) continue;
      const resolve: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
      field.resolve = (source, args, context, info) => {
        const guard = guardOf(context);
        return guard ? guard.run(() => resolve(source, args, context, info), raceable) : resolve(source, args, context, info);
      };
      marked[GUARDED] = true;
    }
  }
}

/** Operations stopped while running, by reason; one counter per registry. */
export function stoppedOperationsCounter(registry: Registry): Counter<"reason"> {
  const name = "hub_graphql_operations_stopped_total";
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<"reason">;
  return new Counter({ name, help: "GraphQL operations stopped while running: past GRAPHQL_EXECUTION_TIMEOUT_MS (deadline) or with their client gone (client_closed)", labelNames: ["reason"], registers: [registry] });
}
