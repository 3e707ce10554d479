import { Field, Int, ObjectType } from "type-graphql";

@ObjectType({ description: "The background job queue (graphile-worker): is the worker keeping up?" })
export class JobQueueStats {
  @Field(() => Int, { description: "Jobs ready to run now and not yet picked up." })
  due!: number;

  @Field(() => Int, { description: "Jobs waiting for a later run time (including retries after a failure)." })
  scheduled!: number;

  @Field(() => Int, { description: "Jobs a worker is running now." })
  running!: number;

  @Field(() => Int, { description: "Jobs that used up their attempts and will not run again." })
  failed!: number;

  @Field(() => Int, { nullable: true, description: "Whole seconds the longest-waiting due job has waited; null when none is due." })
  oldestDueAgeSeconds!: number | null;
}
