/**
 * Pins every stateful resource of both stages: its logical ID, its deletion policies and the
 * properties whose change makes CloudFormation replace it (a new, empty cache, table, bucket or key
 * and, in staging, the old one deleted; in production, an orphan and a gateway pointed at a new one).
 * A renamed construct id changes the logical ID, which is a replacement too.
 *
 * A deliberate change: `UPDATE_STATEFUL_PINS=1 npx jest test/lib/stateful-resources.test.ts` rewrites
 * test/lib/fixtures/stateful-resources.json; review its diff and say in the commit why the
 * replacement is safe (docs/deploying.md, "Stateful resources").
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { productionConfig, stagingConfig } from '../../lib/config';
import { REPO_ROOT, SynthesizedStage, synthStages } from './synth';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

/**
 * The stateful resource types and, per type, the properties whose change replaces the resource
 * ("Update requires: Replacement" in the CloudFormation reference). An absent property is pinned as
 * null: setting one (e.g. a name where CloudFormation generated it) replaces the resource as well.
 */
export const REPLACEMENT_PROPERTIES: Readonly<Record<string, readonly string[]>> = {
  'AWS::ElastiCache::ReplicationGroup': [
    'ReplicationGroupId',
    'Engine',
    'Port',
    'AtRestEncryptionEnabled',
    'TransitEncryptionEnabled',
    'KmsKeyId',
    'CacheSubnetGroupName',
    'NetworkType',
    'DataTieringEnabled',
    'SnapshotArns',
    'SnapshotName',
  ],
  'AWS::ElastiCache::ParameterGroup': ['CacheParameterGroupFamily', 'Description'],
  'AWS::ElastiCache::SubnetGroup': ['CacheSubnetGroupName'],
  'AWS::SecretsManager::Secret': ['Name'],
  'AWS::DynamoDB::Table': ['TableName', 'KeySchema', 'LocalSecondaryIndexes'],
  'AWS::S3::Bucket': ['BucketName', 'ObjectLockEnabled'],
  'AWS::KMS::Key': ['KeySpec', 'KeyUsage', 'Origin', 'MultiRegion'],
  'AWS::KMS::Alias': ['AliasName'],
  'AWS::Logs::LogGroup': ['LogGroupName'],
};

interface Pin {
  readonly Type: string;
  readonly DeletionPolicy: string | null;
  readonly UpdateReplacePolicy: string | null;
  readonly Properties: Record<string, unknown>;
}

const FIXTURE = join(__dirname, 'fixtures', 'stateful-resources.json');
const UPDATE = process.env.UPDATE_STATEFUL_PINS === '1';
const STAGES = [stagingConfig, productionConfig] as const;

/** What the fixture pins of each stateful resource of one stage's template, by logical ID. */
function pinsOf(s: SynthesizedStage): Record<string, Pin> {
  const pins: Record<string, Pin> = {};
  for (const [logicalId, resource] of Object.entries(s.json.Resources as Json).sort(([a], [b]) =>
    a.localeCompare(b),
  )) {
    const properties = REPLACEMENT_PROPERTIES[(resource as Json).Type as string];
    if (!properties) continue;
    pins[logicalId] = {
      Type: resource.Type,
      DeletionPolicy: resource.DeletionPolicy ?? null,
      UpdateReplacePolicy: resource.UpdateReplacePolicy ?? null,
      Properties: Object.fromEntries(properties.map((p) => [p, resource.Properties?.[p] ?? null])),
    };
  }
  return pins;
}

const readFixture = (): { stages: Record<string, Record<string, Pin>> } =>
  JSON.parse(readFileSync(FIXTURE, 'utf8')) as { stages: Record<string, Record<string, Pin>> };

let actual: Record<string, Record<string, Pin>>;

beforeAll(() => {
  const synthesized = synthStages(...STAGES);
  actual = Object.fromEntries(STAGES.map((config, i) => [config.name, pinsOf(synthesized[i])]));
});

if (UPDATE) {
  it('rewrites the pinned stateful resources (UPDATE_STATEFUL_PINS=1)', () => {
    const fixture = {
      '//': 'Stateful resources of each stage: logical ID, deletion policies, replacement-causing properties (null: not set). Do not edit by hand: UPDATE_STATEFUL_PINS=1 npx jest test/lib/stateful-resources.test.ts rewrites it; review the diff (docs/deploying.md, "Stateful resources").',
      stages: actual,
    };
    writeFileSync(FIXTURE, JSON.stringify(fixture, null, 2));
    // Formatted as `npm run lint` checks it (prettier's API needs ESM, which jest runs only behind a flag).
    execFileSync(join(REPO_ROOT, 'node_modules', '.bin', 'prettier'), ['--write', FIXTURE]);
    expect(Object.keys(readFixture().stages)).toEqual(STAGES.map((c) => c.name));
  });
} else {
  const pinned = readFixture().stages;

  describe.each(STAGES.map((config) => [config.name] as const))('%s stage', (stage) => {
    it('pins at least the cache, the secrets, the tables, the buckets and the stage key', () => {
      const types = new Set(Object.values(pinned[stage]).map((pin) => pin.Type));
      for (const type of Object.keys(REPLACEMENT_PROPERTIES).filter((t) => t !== 'AWS::KMS::Alias'))
        expect(types).toContain(type);
    });

    it.each(Object.entries(pinned[stage] ?? {}))(
      'keeps %s, its deletion policies and its replacement-causing properties',
      (logicalId, pin) => {
        // Missing: the construct was renamed or removed, so CloudFormation would replace or delete it.
        expect({ [logicalId]: actual[stage][logicalId] ?? 'missing (renamed or removed)' }).toEqual({
          [logicalId]: pin,
        });
      },
    );

    it('has no stateful resource the fixture does not pin (a new one: rewrite the pins)', () => {
      expect(Object.keys(actual[stage]).filter((id) => !(id in pinned[stage]))).toEqual([]);
    });
  });
}
