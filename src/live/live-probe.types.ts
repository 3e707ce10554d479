import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";

export enum LiveProbeRoute {
  API = "API",
  WORKER = "WORKER",
}

registerEnumType(LiveProbeRoute, {
  name: "LiveProbeRoute",
  description: "Which process answers a live probe.",
  valuesConfig: {
    API: { description: "The api process that received sendLiveProbe answers at once (api → every api)." },
    WORKER: { description: "A worker answers from the job queue (api → queue → worker → every api)." },
  },
});

@ObjectType({ description: "A hub process. hostname and pid are shown to admin keys only." })
export class HubProcess {
  @Field(() => String, { description: "all, api or worker" })
  role!: string;

  @Field(() => String)
  version!: string;

  @Field(() => String, { nullable: true })
  hostname!: string | null;

  @Field(() => Int, { nullable: true })
  pid!: number | null;
}

@ObjectType({ description: "A probe on its way; watch for it on the liveProbes subscription." })
export class LiveProbe {
  @Field(() => ID)
  id!: string;

  @Field(() => LiveProbeRoute)
  route!: LiveProbeRoute;

  @Field(() => Date)
  sentAt!: Date;

  @Field(() => HubProcess)
  sentBy!: HubProcess;
}

@ObjectType({ description: "A probe as it reached this subscriber: who sent it, who answered, who relayed it." })
export class LiveProbeEcho {
  @Field(() => ID)
  probeId!: string;

  @Field(() => LiveProbeRoute)
  route!: LiveProbeRoute;

  @Field(() => Date)
  sentAt!: Date;

  @Field(() => HubProcess)
  sentBy!: HubProcess;

  @Field(() => Date)
  answeredAt!: Date;

  @Field(() => HubProcess, { description: "The process that answered: the api one, or the worker that ran the job." })
  answeredBy!: HubProcess;

  @Field(() => Date)
  receivedAt!: Date;

  @Field(() => HubProcess, { description: "The api process serving this subscription." })
  receivedBy!: HubProcess;
}
