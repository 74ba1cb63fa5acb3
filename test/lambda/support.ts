/**
 * Test helpers for the Lambda handlers: capture what Powertools writes (EMF metrics on stdout, JSON
 * logs on stdout/stderr), and an in-memory Secrets Manager with rotation stages behind aws-sdk-client-mock.
 */
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { AwsStub } from 'aws-sdk-client-mock';
import { Dimension, METRIC_NAMESPACE } from '../../runtime/metric-names';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Everything written to stdout and stderr while it is active, one parsed JSON object per line. */
export class OutputCapture {
  readonly lines: Json[] = [];
  readonly raw: string[] = [];
  private spies: jest.SpyInstance[] = [];

  start(): this {
    for (const stream of [process.stdout, process.stderr]) {
      this.spies.push(
        jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
          const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
          this.raw.push(text);
          for (const line of text.split('\n')) {
            if (!line.trim().startsWith('{')) continue;
            try {
              this.lines.push(JSON.parse(line) as Json);
            } catch {
              // not JSON: kept in raw only
            }
          }
          return true;
        }),
      );
    }
    return this;
  }

  stop(): void {
    this.spies.forEach((s) => s.mockRestore());
    this.spies = [];
  }

  clear(): void {
    this.lines.length = 0;
    this.raw.length = 0;
  }

  /** EMF documents. */
  get emf(): Json[] {
    return this.lines.filter((l) => l._aws?.CloudWatchMetrics);
  }

  /** Values of one metric across every EMF document, in order. */
  metric(name: string): number[] {
    const values: number[] = [];
    for (const doc of this.emf) {
      if (doc[name] === undefined) continue;
      values.push(...(Array.isArray(doc[name]) ? doc[name] : [doc[name]]));
    }
    return values;
  }

  /** Log lines (not EMF) with this message. */
  logs(message?: string): Json[] {
    return this.lines.filter((l) => !l._aws && (message === undefined || l.message === message));
  }

  /** Everything written, as one string: for "never logs the key" assertions. */
  get text(): string {
    return this.raw.join('');
  }
}

/** Asserts every EMF document is in the project namespace with `Stage` as its only dimension. */
export function expectStageOnlyDimensions(capture: OutputCapture, stage: string): void {
  expect(capture.emf.length).toBeGreaterThan(0);
  for (const doc of capture.emf) {
    const [directive] = doc._aws.CloudWatchMetrics;
    expect(directive.Namespace).toBe(METRIC_NAMESPACE);
    expect(directive.Dimensions).toEqual([[Dimension.stage]]);
    expect(doc[Dimension.stage]).toBe(stage);
    expect(doc.service).toBeUndefined();
  }
}

interface Version {
  value?: string;
  stages: string[];
}

/**
 * One secret with versions and staging labels, answering the four calls a rotation makes the way
 * Secrets Manager does (ResourceNotFound for a pending version without a value, AWSPREVIOUS on promotion).
 */
export class InMemorySecret {
  readonly versions = new Map<string, Version>();
  rotationEnabled = true;

  constructor(readonly arn: string) {}

  /** Adds a version labelled AWSCURRENT (the key in use before rotation). */
  setCurrent(versionId: string, value: string): this {
    for (const v of this.versions.values()) v.stages = v.stages.filter((s) => s !== 'AWSCURRENT');
    this.versions.set(versionId, { value, stages: ['AWSCURRENT'] });
    return this;
  }

  /** What RotateSecret does before it calls `createSecret`: a version labelled AWSPENDING, no value yet. */
  startRotation(token: string): this {
    this.versions.set(token, { stages: ['AWSPENDING'] });
    return this;
  }

  versionWith(stage: string): string | undefined {
    return [...this.versions.entries()].find(([, v]) => v.stages.includes(stage))?.[0];
  }

  valueOf(stage: string): Json | undefined {
    const id = this.versionWith(stage);
    const value = id ? this.versions.get(id)?.value : undefined;
    return value === undefined ? undefined : (JSON.parse(value) as Json);
  }

  /** Routes the client mock's rotation calls to this secret. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  install(mock: AwsStub<any, any, any>): void {
    const notFound = () =>
      new ResourceNotFoundException({
        message: "Secrets Manager can't find the specified secret value",
        $metadata: {},
      });
    mock.on(DescribeSecretCommand, { SecretId: this.arn }).callsFake(() => ({
      ARN: this.arn,
      RotationEnabled: this.rotationEnabled,
      VersionIdsToStages: Object.fromEntries(
        [...this.versions.entries()].map(([id, v]) => [id, [...v.stages]]),
      ),
    }));
    mock
      .on(GetSecretValueCommand, { SecretId: this.arn })
      .callsFake((input: { VersionId?: string; VersionStage?: string }) => {
        const id = input.VersionId ?? this.versionWith(input.VersionStage ?? 'AWSCURRENT');
        const v = id ? this.versions.get(id) : undefined;
        if (!v || v.value === undefined || (input.VersionStage && !v.stages.includes(input.VersionStage)))
          throw notFound();
        return { ARN: this.arn, VersionId: id, SecretString: v.value, VersionStages: [...v.stages] };
      });
    mock
      .on(PutSecretValueCommand, { SecretId: this.arn })
      .callsFake((input: { ClientRequestToken: string; SecretString: string; VersionStages?: string[] }) => {
        const existing = this.versions.get(input.ClientRequestToken);
        if (existing?.value !== undefined && existing.value !== input.SecretString) {
          throw new ResourceExistsException({
            message: 'A version with this token already exists with other contents',
            $metadata: {},
          });
        }
        const stages = input.VersionStages ?? ['AWSCURRENT'];
        for (const v of this.versions.values()) v.stages = v.stages.filter((s) => !stages.includes(s));
        this.versions.set(input.ClientRequestToken, {
          value: input.SecretString,
          stages: [...new Set([...(existing?.stages ?? []), ...stages])],
        });
        return { ARN: this.arn, VersionId: input.ClientRequestToken };
      });
    mock
      .on(UpdateSecretVersionStageCommand, { SecretId: this.arn })
      .callsFake(
        (input: { VersionStage: string; MoveToVersionId?: string; RemoveFromVersionId?: string }) => {
          const from = input.RemoveFromVersionId ? this.versions.get(input.RemoveFromVersionId) : undefined;
          if (input.RemoveFromVersionId && !from?.stages.includes(input.VersionStage)) {
            throw new Error(
              `InvalidParameterException: ${input.VersionStage} is not on ${input.RemoveFromVersionId}`,
            );
          }
          const to = input.MoveToVersionId ? this.versions.get(input.MoveToVersionId) : undefined;
          if (!to) throw notFound();
          if (from) from.stages = from.stages.filter((s) => s !== input.VersionStage);
          to.stages.push(input.VersionStage);
          if (input.VersionStage === 'AWSCURRENT' && from) {
            for (const v of this.versions.values()) v.stages = v.stages.filter((s) => s !== 'AWSPREVIOUS');
            from.stages.push('AWSPREVIOUS');
            to.stages = to.stages.filter((s) => s !== 'AWSPENDING');
          }
          return { ARN: this.arn };
        },
      );
  }
}

export const secretArn = (name: string): string =>
  `arn:aws:secretsmanager:us-east-1:111111111111:secret:${name}`;
