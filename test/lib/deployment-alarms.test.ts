import { APPLICATION, productionConfig, stagingConfig, StageConfig } from '../../lib/config';
import { SynthesizedStage, synthStages } from './synth';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

let staging: SynthesizedStage;
let production: SynthesizedStage;

beforeAll(() => {
  [staging, production] = synthStages(stagingConfig, productionConfig);
});

const resourcesOf = (s: SynthesizedStage, type: string): [string, Json][] =>
  Object.entries(s.json.Resources as Json).filter(([, r]) => (r as Json).Type === type) as [string, Json][];

/** Logical IDs a resource refers to (Ref, Fn::GetAtt) or depends on (DependsOn). */
function referencesOf(resource: Json): Set<string> {
  const found = new Set<string>([resource.DependsOn ?? []].flat() as string[]);
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === 'object' && value !== null) {
      for (const [key, child] of Object.entries(value)) {
        if (key === 'Ref' && typeof child === 'string') found.add(child);
        else if (key === 'Fn::GetAtt') found.add(([child].flat() as string[])[0].split('.')[0]);
        else walk(child);
      }
    }
  };
  walk(resource.Properties);
  return found;
}

/** A dependency cycle among the template's resources, or undefined: CloudFormation refuses to deploy one. */
function findCycle(resources: Json): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]): string[] | undefined => {
    if (state.get(id) === 'done' || !(id in resources)) return undefined;
    if (state.get(id) === 'visiting') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'visiting');
    for (const next of referencesOf(resources[id] as Json)) {
      const cycle = visit(next, [...path, id]);
      if (cycle) return cycle;
    }
    state.set(id, 'done');
    return undefined;
  };
  for (const id of Object.keys(resources)) {
    const cycle = visit(id, []);
    if (cycle) return cycle;
  }
  return undefined;
}

describe.each([
  ['Staging', () => staging, stagingConfig],
  ['Production', () => production, productionConfig],
] as const)('%s stage: ECS deployment alarms', (_name, get, config: StageConfig) => {
  let s: SynthesizedStage;
  beforeAll(() => {
    s = get();
  });

  /** The logical ID of the alarm named `<application>-<stage>-<id>`. */
  const alarmLogicalId = (id: string): string => {
    const name = `${APPLICATION}-${config.name}-${id}`;
    const ids = resourcesOf(s, 'AWS::CloudWatch::Alarm')
      .filter(([, r]) => r.Properties.AlarmName === name)
      .map(([logicalId]) => logicalId);
    expect(ids).toHaveLength(1);
    return ids[0];
  };

  it("rolls a deployment back when the gateway's target 5xx or latency alarm fires, beside the circuit breaker", () => {
    const services = resourcesOf(s, 'AWS::ECS::Service');
    expect(services).toHaveLength(1);
    const [, service] = services[0];
    const deployment = service.Properties.DeploymentConfiguration;
    expect(deployment.DeploymentCircuitBreaker).toEqual({ Enable: true, Rollback: true });
    expect(deployment.Alarms).toEqual({
      Enable: true,
      Rollback: true,
      AlarmNames: [
        `${APPLICATION}-${config.name}-Target5xx`,
        `${APPLICATION}-${config.name}-AlbTargetLatency`,
      ],
    });
    // Named literally, so the service must depend on them for CloudFormation to create them first.
    expect(service.DependsOn).toEqual(
      expect.arrayContaining([alarmLogicalId('Target5xx'), alarmLogicalId('AlbTargetLatency')]),
    );
  });

  it('has no dependency cycle (the alarms watch the load balancer the service registers with)', () => {
    expect(findCycle(s.json.Resources as Json)).toBeUndefined();
  });
});
