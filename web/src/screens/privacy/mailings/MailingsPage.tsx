import './messages.js';
import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Group,
  List,
  Loader,
  NumberInput,
  Progress,
  SimpleGrid,
  Stack,
  Tabs,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Route, Routes, useNavigate, useParams } from 'react-router';
import { useMe } from '../../../api/auth.js';
import { api, newIdempotencyKey } from '../../../api/client.js';
import { currentLanguage } from '../../../i18n/index.js';
import { PurposePicker, useScreenPurpose, type ScreenPurpose } from '../../../purposes/usePurpose.js';
import { notifySuccess } from '../../../ui/notify.js';
import { ProblemAlert } from '../../../ui/ProblemAlert.js';
import { formatMoment } from '../../../ui/dates.js';

const LANGUAGES = ['nl', 'fr', 'en'] as const;
type MailLanguage = (typeof LANGUAGES)[number];

const RECIPIENT_STATES = ['pending', 'sending', 'sent', 'skipped', 'uncertain', 'bounced'] as const;
type RecipientState = (typeof RECIPIENT_STATES)[number];

interface Mailing {
  mailingId: number;
  purpose: string;
  state: 'draft' | 'sending' | 'sent';
  createdAt: string;
  queuedAt: string | null;
  finishedAt: string | null;
  languages: string[];
  links: string[];
  recipients: Record<RecipientState, number>;
}

interface Audience {
  count: number;
  byLanguage: Record<string, number>;
  tracked: number;
  leftOut: Record<'refusedByGate' | 'minors' | 'noAddress' | 'suppressed' | 'duplicates', number>;
}

/**
 * Mailings (newsletters): compose per language, see who it would reach now and who is left out,
 * send on a second click, follow the sending. Acts under the newsletter purpose the staff member
 * picks (decision 0320). The API has no list of mailings: this browser remembers the ones it made.
 */
export function MailingsScreen() {
  return (
    <Routes>
      <Route index element={<MailingsHome />} />
      <Route path=":mailingId" element={<MailingDetail />} />
    </Routes>
  );
}

/** The numbers of the mailings made in this browser, per tenant and purpose, newest first. */
function useRecent(purpose: string | undefined) {
  const me = useMe();
  const key = `kluis.mailings.${me.data?.tenant ?? ''}.${purpose ?? ''}`;
  const read = (): number[] => {
    try {
      const parsed: unknown = JSON.parse(localStorage.getItem(key) ?? '[]');
      return Array.isArray(parsed) ? parsed.filter((value): value is number => Number.isInteger(value)) : [];
    } catch {
      return [];
    }
  };
  return {
    ids: read(),
    remember: (id: number) => localStorage.setItem(key, JSON.stringify([id, ...read()].slice(0, 20))),
  };
}

const dateTime = (iso: string | null): string => (iso ? formatMoment(iso) : '—');

function MailingsHome() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const purpose = useScreenPurpose('mailings');
  const recent = useRecent(purpose.purpose);
  const [id, setId] = useState<string | number>('');
  return (
    <Stack>
      <Title order={1}>{t('mailings.title')}</Title>
      <PurposePicker state={purpose} />
      <Text size="sm" c="dimmed">
        {t('mailings.intro')}
      </Text>
      <Card withBorder>
        <Compose
          purpose={purpose}
          onCreated={(mailing) => {
            recent.remember(mailing.mailingId);
            void navigate(String(mailing.mailingId));
          }}
        />
      </Card>
      <Card withBorder>
        <Stack gap="sm">
          <form
            onSubmit={(event) => {
              event.preventDefault();
              if (Number(id) > 0) void navigate(String(Number(id)));
            }}
          >
            <Group align="flex-end">
              <NumberInput
                label={t('mailings.openById')}
                description={t('mailings.openHelp')}
                min={1}
                allowDecimal={false}
                value={id}
                onChange={setId}
                w={320}
              />
              <Button type="submit" variant="default">
                {t('mailings.openSubmit')}
              </Button>
            </Group>
          </form>
          {recent.ids.length > 0 ? (
            <Stack gap={4}>
              <Text size="sm" fw={700}>
                {t('mailings.recent')}
              </Text>
              <Group gap="xs">
                {recent.ids.map((mailingId) => (
                  <Anchor key={mailingId} component={Link} to={String(mailingId)} size="sm">
                    {t('mailings.mailing', { id: mailingId })}
                  </Anchor>
                ))}
              </Group>
            </Stack>
          ) : null}
        </Stack>
      </Card>
    </Stack>
  );
}

type Texts = Record<MailLanguage, { subject: string; body: string }>;

function Compose({ purpose, onCreated }: { purpose: ScreenPurpose; onCreated: (mailing: Mailing) => void }) {
  const { t } = useTranslation();
  const [tab, setTab] = useState<string | null>(currentLanguage());
  const form = useForm<{ texts: Texts }>({
    initialValues: {
      texts: { nl: { subject: '', body: '' }, fr: { subject: '', body: '' }, en: { subject: '', body: '' } },
    },
    validate: (values) => {
      const errors: Record<string, string> = {};
      let complete = 0;
      for (const language of LANGUAGES) {
        const { subject, body } = values.texts[language];
        if (subject.trim() && body.trim()) complete += 1;
        else if (subject.trim()) errors[`texts.${language}.body`] = t('mailings.bothOrNeither');
        else if (body.trim()) errors[`texts.${language}.subject`] = t('mailings.bothOrNeither');
      }
      if (complete === 0 && Object.keys(errors).length === 0)
        errors[`texts.${currentLanguage()}.subject`] = t('mailings.oneLanguage');
      return errors;
    },
  });
  const create = useMutation({
    mutationFn: (texts: Texts) =>
      api<Mailing>('POST', '/api/v1/mailings', {
        purpose: purpose.purpose,
        body: {
          texts: Object.fromEntries(
            LANGUAGES.filter((language) => texts[language].subject.trim()).map((language) => [
              language,
              { subject: texts[language].subject.trim(), body: texts[language].body.trim() },
            ]),
          ),
        },
      }),
    onSuccess: (mailing) => {
      notifySuccess(t('mailings.created', { id: mailing.mailingId }));
      onCreated(mailing);
    },
  });
  return (
    <form onSubmit={form.onSubmit((values) => create.mutate(values.texts))} noValidate>
      <Stack gap="sm">
        <Title order={2} size="h4">
          {t('mailings.compose')}
        </Title>
        <Text size="sm" c="dimmed">
          {t('mailings.composeHelp')}
        </Text>
        <Tabs value={tab} onChange={setTab}>
          <Tabs.List>
            <Tabs.Tab value="nl">Nederlands</Tabs.Tab>
            <Tabs.Tab value="fr">Français</Tabs.Tab>
            <Tabs.Tab value="en">English</Tabs.Tab>
          </Tabs.List>
          {LANGUAGES.map((language) => (
            <Tabs.Panel key={language} value={language} pt="sm">
              <Stack gap="sm" lang={language}>
                <TextInput
                  label={t('mailings.subject')}
                  {...form.getInputProps(`texts.${language}.subject`)}
                />
                <Textarea
                  label={t('mailings.body')}
                  description={t('mailings.bodyHelp')}
                  autosize
                  minRows={6}
                  {...form.getInputProps(`texts.${language}.body`)}
                />
              </Stack>
            </Tabs.Panel>
          ))}
        </Tabs>
        {Object.keys(form.errors).length > 0 ? (
          <Text size="sm" c="red.9" role="alert">
            {[...new Set(Object.values(form.errors).filter((error) => typeof error === 'string'))].join(
              ' · ',
            )}
          </Text>
        ) : null}
        {create.error ? <ProblemAlert error={create.error} /> : null}
        <Group>
          <Button type="submit" loading={create.isPending} disabled={purpose.purpose === undefined}>
            {t('mailings.create')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function MailingDetail() {
  const { t } = useTranslation();
  const { mailingId = '' } = useParams();
  const purpose = useScreenPurpose('mailings');
  const mailing = useQuery({
    queryKey: ['mailing', purpose.purpose, mailingId],
    enabled: purpose.purpose !== undefined,
    queryFn: () =>
      api<Mailing>('GET', `/api/v1/mailings/${encodeURIComponent(mailingId)}`, { purpose: purpose.purpose }),
    // While it is being sent, follow it.
    refetchInterval: (query) => (query.state.data?.state === 'sending' ? 2000 : false),
  });
  const data = mailing.data;
  return (
    <Stack>
      <Anchor component={Link} to=".." relative="path" size="sm">
        ← {t('mailings.title')}
      </Anchor>
      <Title order={1}>{t('mailings.mailing', { id: mailingId })}</Title>
      <PurposePicker state={purpose} />
      {mailing.error ? <ProblemAlert error={mailing.error} /> : null}
      {mailing.isPending && purpose.purpose !== undefined ? (
        <Loader size="sm" aria-label={t('common.loading')} />
      ) : null}
      {data ? (
        <>
          <Card withBorder data-testid="mailing-facts">
            <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="xs">
              <Fact label={t('mailings.state')}>
                <Badge
                  color={data.state === 'sent' ? 'teal.9' : data.state === 'sending' ? 'yellow.5' : 'gray.7'}
                  tt="none"
                >
                  {t(`mailings.states.${data.state}`)}
                </Badge>
              </Fact>
              <Fact label={t('mailings.languages')}>{data.languages.join(', ').toUpperCase()}</Fact>
              <Fact label={t('mailings.createdAt')}>{dateTime(data.createdAt)}</Fact>
              <Fact label={t('mailings.queuedAt')}>{dateTime(data.queuedAt)}</Fact>
              <Fact label={t('mailings.finishedAt')}>{dateTime(data.finishedAt)}</Fact>
              <Fact label={t('mailings.links')}>{data.links.length > 0 ? data.links.join(' ') : '—'}</Fact>
            </SimpleGrid>
          </Card>
          {data.state === 'draft' ? (
            <AudienceAndSend mailing={data} purpose={purpose} />
          ) : (
            <Sending mailing={data} onRefresh={() => void mailing.refetch()} />
          )}
        </>
      ) : null}
    </Stack>
  );
}

function Fact({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text size="sm" component="div">
        {children}
      </Text>
    </div>
  );
}

/** Who the mailing would reach now, in counts, and the send button behind a confirmation. */
function AudienceAndSend({ mailing, purpose }: { mailing: Mailing; purpose: ScreenPurpose }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const [idempotencyKey] = useState(newIdempotencyKey);
  const audience = useQuery({
    queryKey: ['mailing-audience', purpose.purpose, mailing.mailingId],
    queryFn: () =>
      api<Audience>('GET', `/api/v1/mailings/${mailing.mailingId}/audience`, { purpose: purpose.purpose }),
  });
  const send = useMutation({
    mutationFn: () =>
      api<Mailing>('POST', `/api/v1/mailings/${mailing.mailingId}/send`, {
        purpose: purpose.purpose,
        idempotencyKey,
      }),
    onSuccess: async () => {
      notifySuccess(t('mailings.queued'));
      await queryClient.invalidateQueries({ queryKey: ['mailing'] });
    },
  });
  const data = audience.data;
  const leftOut = data ? (Object.entries(data.leftOut) as Array<[keyof Audience['leftOut'], number]>) : [];
  return (
    <Card withBorder>
      <Stack gap="sm">
        <Title order={2} size="h4">
          {t('mailings.audience')}
        </Title>
        {audience.error ? <ProblemAlert error={audience.error} /> : null}
        {data ? (
          <Stack gap="xs" data-testid="audience">
            <Text fw={700} size="xl">
              {t('mailings.audienceCount', { count: data.count })}
            </Text>
            <Text size="sm">
              {t('mailings.byLanguage')}:{' '}
              {Object.entries(data.byLanguage)
                .map(([language, count]) => `${language.toUpperCase()} ${count}`)
                .join(' · ') || '—'}
            </Text>
            <Text size="sm">{t('mailings.tracked', { count: data.tracked })}</Text>
            {leftOut.some(([, count]) => count > 0) ? (
              <>
                <Text size="sm" fw={700}>
                  {t('mailings.leftOut')}
                </Text>
                <List size="sm">
                  {leftOut
                    .filter(([, count]) => count > 0)
                    .map(([reason, count]) => (
                      <List.Item key={reason}>{t(`mailings.leftOutReasons.${reason}`, { count })}</List.Item>
                    ))}
                </List>
              </>
            ) : null}
          </Stack>
        ) : (
          <Loader size="sm" aria-label={t('common.loading')} />
        )}
        {send.error ? <ProblemAlert error={send.error} /> : null}
        {confirming ? (
          <Alert color="orange" title={t('mailings.sendConfirm')}>
            <Group>
              <Button color="red.9" loading={send.isPending} onClick={() => send.mutate()}>
                {t('mailings.sendYes')}
              </Button>
              <Button variant="default" onClick={() => setConfirming(false)}>
                {t('common.cancel')}
              </Button>
            </Group>
          </Alert>
        ) : (
          <Group>
            <Button onClick={() => setConfirming(true)} disabled={!data || data.count === 0}>
              {t('mailings.send', { count: data?.count ?? 0 })}
            </Button>
          </Group>
        )}
      </Stack>
    </Card>
  );
}

/** How far the sending is: recipients per state. */
function Sending({ mailing, onRefresh }: { mailing: Mailing; onRefresh: () => void }) {
  const { t } = useTranslation();
  const total = RECIPIENT_STATES.reduce((sum, state) => sum + mailing.recipients[state], 0);
  const done = total - mailing.recipients.pending - mailing.recipients.sending;
  return (
    <Card withBorder>
      <Stack gap="sm" data-testid="recipients">
        <Group justify="space-between">
          <Title order={2} size="h4">
            {t('mailings.recipients')}
          </Title>
          <Button variant="default" size="xs" onClick={onRefresh}>
            {t('mailings.refresh')}
          </Button>
        </Group>
        <Progress
          value={total === 0 ? 100 : (100 * done) / total}
          aria-label={t('mailings.progress', { done, total })}
        />
        <Text size="sm">{t('mailings.progress', { done, total })}</Text>
        <SimpleGrid cols={{ base: 2, sm: 3 }} spacing="xs">
          {RECIPIENT_STATES.map((state) => (
            <Fact key={state} label={t(`mailings.recipientStates.${state}`)}>
              <span data-testid={`recipients-${state}`}>{mailing.recipients[state]}</span>
            </Fact>
          ))}
        </SimpleGrid>
      </Stack>
    </Card>
  );
}
