import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Checkbox,
  Group,
  Loader,
  Paper,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Stepper,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { api, fetchBlob, newIdempotencyKey, saveBlob } from '../../api/client.js';
import { notifySuccess } from '../../ui/notify.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';
import { isOpen, useRequests, type Letter, type RightsRequest } from './api.js';
import { DueBadge } from './RequestsPage.js';
import { formatDay } from '../../ui/dates.js';

const VERIFICATION_METHODS = [
  'id_card_seen',
  'callback_on_file_number',
  'signed_letter_matches',
  'known_in_person',
];

type Answer = 'fulfilled' | 'extended' | 'rejected';

function stepOf(request: RightsRequest): number {
  if (request.state === 'awaiting_verification') return 1;
  if (request.state === 'verified') return 2;
  return 3;
}

/** One request: its facts, and its steps — verify, then fulfil, extend or reject — each with its letter. */
export function RequestDetail() {
  const { t } = useTranslation();
  const { requestId } = useParams();
  const requests = useRequests();
  // The letter a fulfilment by post answered with, to print once the request is closed (decision 1250).
  const [printed, setPrinted] = useState<Letter | undefined>();
  if (requests.isPending) return <Loader aria-label={t('common.loading')} />;
  if (requests.error) return <ProblemAlert error={requests.error} />;
  const request = requests.data.find((candidate) => candidate.requestId === requestId);
  if (!request)
    return (
      <Alert color="orange" title={t('requests.notFound')}>
        <Anchor component={Link} to="/requests">
          {t('common.back')}
        </Anchor>
      </Alert>
    );
  return (
    <Stack maw={900}>
      <Anchor component={Link} to="/requests" size="sm">
        ← {t('nav.requests')}
      </Anchor>
      <Group justify="space-between">
        <Title order={1}>{t(`requestKind.${request.kind}`, { defaultValue: request.kind })}</Title>
        <Badge size="lg" color="indigo.8" tt="none" data-testid="request-state" data-state={request.state}>
          {t(`requestState.${request.state}`)}
        </Badge>
      </Group>
      <Card withBorder>
        <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="xs">
          <Fact label={t('requests.received')} value={formatDay(request.receivedOn)} />
          <Fact label={t('requests.due')} value={<DueBadge request={request} />} />
          <Fact
            label={t('requests.channel')}
            value={t(`channel.${request.channel}`, { defaultValue: request.channel })}
          />
          <Fact
            label={t('requests.person')}
            value={
              request.subjectId === null ? (
                t('requests.unmatched')
              ) : (
                <Anchor component={Link} to={`/people/${request.subjectId}`}>
                  #{request.subjectId}
                </Anchor>
              )
            }
          />
          <Fact
            label={t('requests.verification')}
            value={request.verificationMethod ?? t('requests.notVerified')}
          />
          <Fact
            label={t('requests.reference')}
            value={
              <Text size="xs" ff="monospace">
                {request.requestId}
              </Text>
            }
          />
        </SimpleGrid>
      </Card>
      <Stepper active={stepOf(request)} orientation="horizontal" size="sm" allowNextStepsSelect={false}>
        <Stepper.Step label={t('requests.stepReceived')} description={formatDay(request.receivedOn)} />
        <Stepper.Step label={t('requests.stepVerify')} description={request.verificationMethod ?? ''} />
        <Stepper.Step
          label={t('requests.stepAnswer')}
          description={isOpen(request) ? '' : t(`requestState.${request.state}`)}
        />
      </Stepper>
      {request.state === 'awaiting_verification' ? <VerifyStep request={request} /> : null}
      {printed ? (
        <Alert color="yellow" title={t('requests.printThis')} data-testid="letter-to-print">
          <LetterView letter={printed} />
        </Alert>
      ) : null}
      {isOpen(request) ? (
        <AnswerStep key={request.state} request={request} onPrint={setPrinted} />
      ) : (
        <ClosedNote request={request} />
      )}
    </Stack>
  );
}

function Fact({ label, value }: { label: string; value: React.ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      {typeof value === 'string' ? <Text size="sm">{value}</Text> : value}
    </div>
  );
}

function ClosedNote({ request }: { request: RightsRequest }) {
  const { t } = useTranslation();
  return (
    <Alert
      color={request.state === 'fulfilled' ? 'green' : 'gray'}
      title={t(`requestState.${request.state}`)}
    >
      {t('requests.closedNote')}
    </Alert>
  );
}

function VerifyStep({ request }: { request: RightsRequest }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const form = useForm({
    initialValues: { method: '' },
    validate: { method: (value) => (value ? null : t('common.required')) },
  });
  const verify = useMutation({
    mutationFn: (method: string) =>
      api('POST', `/api/v1/requests/${request.requestId}/verify`, { body: { method } }),
    onSuccess: async () => {
      notifySuccess(t('requests.verified'));
      await queryClient.invalidateQueries({ queryKey: ['requests'] });
    },
  });
  return (
    <Card withBorder>
      <form onSubmit={form.onSubmit((values) => verify.mutate(values.method))} noValidate>
        <Stack gap="sm">
          <Title order={2} size="h4">
            {t('requests.stepVerify')}
          </Title>
          <Text size="sm">{t('requests.verifyIntro')}</Text>
          <Select
            label={t('requests.verificationMethod')}
            data={VERIFICATION_METHODS.map((method) => ({
              value: method,
              label: t(`verification.${method}`),
            }))}
            required
            {...form.getInputProps('method')}
            maw={420}
          />
          {request.subjectId === null ? <Alert color="orange">{t('requests.linkFirst')}</Alert> : null}
          {verify.error ? <ProblemAlert error={verify.error} /> : null}
          <Group>
            <Button type="submit" loading={verify.isPending}>
              {t('requests.verifySubmit')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

interface AnswerValues {
  reason: string;
  until: string;
}

function AnswerStep({ request, onPrint }: { request: RightsRequest; onPrint: (letter: Letter) => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const verified = request.state === 'verified';
  // Extension is offered only while the server would accept it (decision 0893: once).
  const fallback: Answer = verified ? 'fulfilled' : request.canExtend ? 'extended' : 'rejected';
  const [picked, setAnswer] = useState<Answer>(fallback);
  const answer: Answer = picked === 'extended' && !request.canExtend ? fallback : picked;
  const [letter, setLetter] = useState<Letter | undefined>();
  // A letter by post is sent by staff, who say so before the change is made (decisions 1192, 1250).
  const [posted, setPosted] = useState(false);
  const byPost = letter?.delivery === 'post';
  // A fulfilment's letter is printed from the answer: it says what was done (what was erased, kept, stopped).
  const fulfilByPost = byPost && answer === 'fulfilled';
  const withPackage = fulfilByPost && (request.kind === 'access' || request.kind === 'portability');
  // An erasure is carried out even when no letter can reach the person (decision 1250).
  const erasureUntold = letter?.delivery === 'none' && answer === 'fulfilled' && request.kind === 'erasure';
  // Nobody to write to: the server refuses the change until an address is recorded.
  const unreachable = letter?.delivery === 'none' && !erasureUntold;
  const [idempotencyKey, setIdempotencyKey] = useState(newIdempotencyKey);
  const form = useForm<AnswerValues>({
    initialValues: { reason: '', until: '' },
    validate: {
      reason: (value) =>
        answer === 'fulfilled' || (value.trim().length >= 10 && value.trim().length <= 500)
          ? null
          : t('requests.reasonLength'),
      until: (value) =>
        answer !== 'extended' || /^\d{4}-\d{2}-\d{2}$/.test(value) ? null : t('common.required'),
    },
  });
  const body = (values: AnswerValues) =>
    answer === 'extended'
      ? { until: values.until, reason: values.reason.trim() }
      : answer === 'rejected'
        ? { reason: values.reason.trim() }
        : {};
  const sent = (values: AnswerValues) => ({
    ...body(values),
    ...(byPost && posted ? { letterPosted: true } : {}),
  });
  const preview = useMutation({
    mutationFn: (values: AnswerValues) =>
      api<Letter>('POST', `/api/v1/requests/${request.requestId}/letter-preview`, {
        body: { outcome: answer, ...body(values) },
      }),
    onSuccess: setLetter,
  });
  const takePackage = useMutation({
    mutationFn: async () => {
      const blob = await fetchBlob(`/api/v1/requests/${request.requestId}/package`);
      saveBlob(blob, `${request.kind}-${request.requestId}.zip`);
    },
  });
  const send = useMutation({
    mutationFn: (values: AnswerValues) =>
      api<{ letter?: { subject: string; text: string } }>(
        'POST',
        `/api/v1/requests/${request.requestId}/${ACTION[answer]}`,
        { body: sent(values), idempotencyKey },
      ),
    onSuccess: async (answered) => {
      if (answered?.letter && letter)
        onPrint({ language: letter.language, delivery: 'post', ...answered.letter });
      notifySuccess(t(answered?.letter ? 'requests.donePost' : `requests.done.${answer}`));
      setLetter(undefined);
      setPosted(false);
      // The reason written for this answer is not carried over to the next one.
      form.reset();
      setIdempotencyKey(newIdempotencyKey());
      await queryClient.invalidateQueries({ queryKey: ['requests'] });
    },
  });
  const change = (value: Answer) => {
    setAnswer(value);
    setLetter(undefined);
    setPosted(false);
    preview.reset();
    send.reset();
  };
  return (
    <Card withBorder>
      <form onSubmit={form.onSubmit((values) => preview.mutate(values))} noValidate>
        <Stack gap="sm">
          <Title order={2} size="h4">
            {t('requests.stepAnswer')}
          </Title>
          <SegmentedControl
            aria-label={t('requests.stepAnswer')}
            value={answer}
            onChange={(value) => change(value)}
            data={[
              { value: 'fulfilled', label: t('requests.fulfil'), disabled: !verified },
              ...(request.canExtend ? [{ value: 'extended' as const, label: t('requests.extend') }] : []),
              { value: 'rejected', label: t('requests.reject') },
            ]}
            w="fit-content"
          />
          {!verified && answer === 'fulfilled' ? <Text size="sm">{t('requests.verifyFirst')}</Text> : null}
          {request.extendedUntil !== null ? (
            <Text size="sm" data-testid="extended-once">
              {t('requests.extendedOnce', { until: formatDay(request.extendedUntil) })}
            </Text>
          ) : null}
          <Text size="sm">{t(`requests.explain.${answer}`)}</Text>
          {answer === 'extended' ? (
            <TextInput
              type="date"
              label={t('requests.until')}
              description={t('requests.untilHelp', { due: request.dueOn })}
              required
              min={request.dueOn}
              {...form.getInputProps('until')}
              maw={240}
            />
          ) : null}
          {answer !== 'fulfilled' ? (
            <Textarea
              label={t('requests.reason')}
              description={t('requests.reasonHelp')}
              autosize
              minRows={3}
              required
              {...form.getInputProps('reason')}
            />
          ) : null}
          {preview.error ? <ProblemAlert error={preview.error} /> : null}
          <Group>
            <Button type="submit" variant={letter ? 'default' : 'filled'} loading={preview.isPending}>
              {t('requests.previewLetter')}
            </Button>
          </Group>
        </Stack>
      </form>
      {letter ? (
        <Stack gap="sm" mt="md">
          <LetterView letter={letter} />
          {letter.delivery === 'status_page' ? (
            <Text size="sm" data-testid="letter-status-page">
              {t('requests.byStatusPage')}
            </Text>
          ) : null}
          {unreachable ? (
            <Alert color="red" data-testid="letter-no-contact">
              <Text size="sm">{t('requests.noContact')}</Text>
            </Alert>
          ) : null}
          {erasureUntold ? (
            <Alert color="orange" data-testid="letter-no-contact-erasure">
              <Text size="sm">{t('requests.erasureNoContact')}</Text>
            </Alert>
          ) : null}
          {byPost ? (
            <Alert color="yellow" data-testid="letter-by-post">
              <Stack gap="xs">
                <Text size="sm">{t(fulfilByPost ? 'requests.byPostFulfil' : 'requests.byPost')}</Text>
                {withPackage ? (
                  <Group>
                    <Button
                      variant="default"
                      size="xs"
                      loading={takePackage.isPending}
                      onClick={() => takePackage.mutate()}
                      data-testid="take-package"
                    >
                      {t('requests.takePackage')}
                    </Button>
                  </Group>
                ) : null}
                {takePackage.error ? <ProblemAlert error={takePackage.error} /> : null}
                <Checkbox
                  label={t(fulfilByPost ? 'requests.postedFulfil' : 'requests.posted')}
                  checked={posted}
                  onChange={(event) => setPosted(event.currentTarget.checked)}
                />
              </Stack>
            </Alert>
          ) : null}
          {send.error ? <ProblemAlert error={send.error} /> : null}
          <Group>
            <Button
              color={answer === 'rejected' ? 'red' : 'indigo'}
              loading={send.isPending}
              disabled={(byPost && !posted) || unreachable}
              onClick={() => form.onSubmit((values) => send.mutate(values))()}
            >
              {t(`requests.confirm.${answer}`)}
            </Button>
          </Group>
        </Stack>
      ) : null}
    </Card>
  );
}

const ACTION: Record<Answer, string> = { fulfilled: 'fulfil', extended: 'extend', rejected: 'reject' };

/** The letter as the person will get it: their language, the subject line, the text. */
export function LetterView({ letter }: { letter: Letter }) {
  const { t } = useTranslation();
  return (
    <Paper withBorder p="md" bg="gray.0" aria-label={t('requests.letter')} role="region" data-testid="letter">
      <Group justify="space-between" mb="xs">
        <Text fw={700} size="sm">
          {t('requests.letter')}
        </Text>
        <Badge color="gray.7" tt="uppercase">
          {letter.language}
        </Badge>
      </Group>
      <Text size="sm" fw={600} data-testid="letter-subject">
        {letter.subject}
      </Text>
      <Text
        size="sm"
        mt="xs"
        style={{ whiteSpace: 'pre-wrap', fontFamily: 'Georgia, serif' }}
        data-testid="letter-text"
      >
        {letter.text}
      </Text>
    </Paper>
  );
}
