import {
  DEFAULT_ON_CALL_TOPIC_SETTINGS,
  OnCallTopic,
  OnCallTopicSettings,
  checkOnCallTopicSettings,
} from '../../../lib/constructs/observability/on-call-topic';
import { SettingsProblems } from '../../../lib/constructs/settings';
import { constructStack, onlyResource, resourcesOf, Synthesized, synthConstruct } from '../synth';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

/** An OnCallTopic alone in its stack, synthesized with every compliance pack. */
const synthTopic = (settings: OnCallTopicSettings): Synthesized => {
  const stack = constructStack();
  new OnCallTopic(stack, 'OnCall', { settings, stage: 'Test' });
  return synthConstruct(stack);
};

describe('OnCallTopic', () => {
  describe.each([
    ['the default settings', DEFAULT_ON_CALL_TOPIC_SETTINGS],
    [
      'two emails and a pager',
      {
        emails: ['a@example.com', 'b@example.com'],
        pagerUrl: 'https://events.pagerduty.com/integration/x/enqueue',
      },
    ],
    ['a pager alone', { emails: [], pagerUrl: 'https://pager.example.com/hook' }],
  ])('with %s', (_name, settings: OnCallTopicSettings) => {
    let s: Synthesized;
    beforeAll(() => (s = synthTopic(settings)));

    it('has one topic, encrypted with a key CloudWatch, Budgets and SNS (its dead letters) may use, TLS only', () => {
      const [topicId, topic] = onlyResource(s, 'AWS::SNS::Topic');
      expect(topic.Properties.DisplayName).toBe('Test on-call');
      const keyId = topic.Properties.KmsMasterKeyId['Fn::GetAtt'][0];
      const keyPolicy = (s.json.Resources[keyId].Properties.KeyPolicy.Statement as Json[]).filter(
        (st) => st.Principal?.Service,
      );
      expect(keyPolicy.map((st) => st.Principal.Service).sort()).toEqual([
        'budgets.amazonaws.com',
        'cloudwatch.amazonaws.com',
        'sns.amazonaws.com',
      ]);
      for (const st of keyPolicy) expect(st.Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
      const topicPolicy = onlyResource(s, 'AWS::SNS::TopicPolicy')[1].Properties;
      expect(topicPolicy.Topics).toEqual([{ Ref: topicId }]);
      expect(topicPolicy.PolicyDocument.Statement).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          expect.objectContaining({
            Effect: 'Allow',
            Action: 'sns:Publish',
            Principal: { Service: 'budgets.amazonaws.com' },
          }),
        ]),
      );
    });

    it('subscribes the configured emails and pager endpoint', () => {
      const subscriptions = resourcesOf(s, 'AWS::SNS::Subscription').map(([, r]) => [
        r.Properties.Protocol,
        r.Properties.Endpoint,
      ]);
      const expected = [
        ...settings.emails.map((email) => ['email', email]),
        ...(settings.pagerUrl ? [['https', settings.pagerUrl]] : []),
      ];
      expect(subscriptions).toEqual(expected);
    });

    it('gives every subscription a redrive policy to its encrypted dead-letter queue', () => {
      const [queue, queueResource] = onlyResource(s, 'AWS::SQS::Queue');
      const keyId = onlyResource(s, 'AWS::KMS::Key')[0];
      expect(queueResource.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
      const subscriptions = resourcesOf(s, 'AWS::SNS::Subscription');
      expect(subscriptions.length).toBeGreaterThan(0);
      for (const [, subscription] of subscriptions) {
        expect(subscription.Properties.RedrivePolicy).toEqual({
          deadLetterTargetArn: { 'Fn::GetAtt': [queue, 'Arn'] },
        });
      }
    });
  });

  describe('settings check', () => {
    const problemsOf = (settings: OnCallTopicSettings, at = ''): readonly string[] => {
      const problems = new SettingsProblems(at);
      checkOnCallTopicSettings(settings, problems);
      return problems.list;
    };

    it('passes the default settings', () => {
      expect(problemsOf(DEFAULT_ON_CALL_TOPIC_SETTINGS)).toEqual([]);
    });

    it('reports every problem at once, each field by its path', () => {
      expect(
        problemsOf({ emails: ['ops@example.com', 'not an email'], pagerUrl: 'http://pager' }, 'onCall.'),
      ).toEqual([
        'onCall.emails[1] must be an email address, got "not an email"',
        'onCall.pagerUrl must be an https:// URL, got "http://pager"',
      ]);
    });

    it('refuses settings that would tell no one', () => {
      expect(problemsOf({ emails: [] }, 'onCall.')).toEqual([
        'onCall.emails must name at least one email when there is no onCall.pagerUrl',
      ]);
    });

    it('is what the construct runs on its settings, before it makes anything', () => {
      const stack = constructStack();
      expect(() => new OnCallTopic(stack, 'T', { stage: 'S', settings: { emails: [] } })).toThrow(
        new Error('OnCallTopic: emails must name at least one email when there is no pagerUrl'),
      );
      expect(
        () =>
          new OnCallTopic(stack, 'T2', { stage: 'S', settings: { emails: ['x'], pagerUrl: 'http://pager' } }),
      ).toThrow(
        [
          'OnCallTopic: 2 problems:',
          '  - emails[0] must be an email address, got "x"',
          '  - pagerUrl must be an https:// URL, got "http://pager"',
        ].join('\n'),
      );
      expect(stack.node.tryFindChild('T')?.node.children).toHaveLength(0);
      expect(stack.node.tryFindChild('T2')?.node.children).toHaveLength(0);
    });

    it('refuses a pager endpoint that is not HTTPS', () => {
      const settings = { emails: [], pagerUrl: 'http://pager' };
      expect(() => new OnCallTopic(constructStack(), 'T', { stage: 'S', settings })).toThrow(
        new Error('OnCallTopic: pagerUrl must be an https:// URL, got "http://pager"'),
      );
    });
  });
});
