import {
  Alert,
  Badge,
  Button,
  Code,
  CopyButton,
  Group,
  List,
  Modal,
  Select,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useDisclosure } from '@mantine/hooks';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { useMemo, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useCan, useMe, useMyPurposes, type Localized } from '../../api/auth.js';
import { api, ApiError } from '../../api/client.js';
import { FixedPurpose } from '../../purposes/FixedPurpose.js';
import { localized } from '../../purposes/usePurpose.js';
import { DataTable } from '../../ui/DataTable.js';
import { brusselsTime, brusselsToday, dayCell } from '../../ui/dates.js';
import { notifySuccess } from '../../ui/notify.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';

interface StaffMember {
  staffId: number;
  email: string;
  displayName: string;
  role: string;
  status: 'active' | 'disabled';
  mustChangePassword: boolean;
  mfaEnabled: boolean;
  isLocked: boolean;
  createdAt: string;
}

interface Role {
  key: string;
  label: Localized;
}

/** The policy's roles with labels: only for a role that manages staff (else the route refuses it). */
export function useRoles(enabled = true) {
  return useQuery({
    queryKey: ['staff', 'roles'],
    queryFn: async () => (await api<{ items: Role[] }>('GET', '/api/v1/staff/roles')).items,
    staleTime: 5 * 60_000,
    enabled,
  });
}

function useStaff() {
  return useQuery({
    queryKey: ['staff', 'list'],
    queryFn: async () => {
      const items: StaffMember[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 20; page += 1) {
        const answer = await api<{ items: StaffMember[]; nextCursor: string | null }>(
          'GET',
          '/api/v1/staff',
          {
            query: { limit: 200, cursor },
          },
        );
        items.push(...answer.items);
        if (!answer.nextCursor) break;
        cursor = answer.nextCursor;
      }
      return items;
    },
  });
}

/**
 * A role's name in the screen's language: from the policy's roles where the role may list them
 * (those who manage staff), else one's own role's label; the key only while neither has arrived.
 */
export function useRoleLabel(): (key: string) => string {
  const can = useCan();
  const roles = useRoles(can('staffAccounts'));
  const mine = useMyPurposes();
  return useMemo(() => {
    const labels = new Map((roles.data ?? []).map((role) => [role.key, role.label]));
    const own = mine.data?.role;
    if (own?.label) labels.set(own.key, own.label);
    return (key: string) => localized(labels.get(key), key);
  }, [roles.data, mine.data]);
}

/** A badge's label is never cut short: the table scrolls sideways instead. */
const WHOLE_LABEL = { root: { overflow: 'visible' }, label: { overflow: 'visible', textOverflow: 'clip' } };

/**
 * An address that may wrap before its `@` and dots, never inside a word: a narrow column breaks
 * "technician@voiceking.example" as "technician / @voiceking / .example", not "exampl / e".
 */
function breakableEmail(email: string): ReactNode[] {
  return email
    .split(/(?=[@.])/)
    .flatMap((part, index) => (index === 0 ? [part] : [<wbr key={index} />, part]));
}

/**
 * Staff accounts: who has which role, second factor, state; invite a new staff member; disable or
 * enable an account; remove a disabled account when the employment ended (decision 0919).
 */
export function StaffPage() {
  const { t } = useTranslation();
  const staff = useStaff();
  const roles = useRoles();
  const me = useMe();
  const can = useCan();
  const [opened, { open, close }] = useDisclosure(false);
  const [removing, setRemoving] = useState<StaffMember | undefined>();
  const [resetting, setResetting] = useState<StaffMember | undefined>();
  const roleLabel = useRoleLabel();
  // The server's capability for writing staff accounts: disabling, enabling and removing alike.
  const mayManage = can('staffRemoval');
  const queryClient = useQueryClient();
  const setStatus = useMutation({
    mutationFn: ({ member, to }: { member: StaffMember; to: 'disable' | 'enable' }) =>
      api('POST', `/api/v1/staff/${member.staffId}/${to}`),
    onSuccess: async (_answer, { member, to }) => {
      notifySuccess(
        t(to === 'disable' ? 'staff.disabledDone' : 'staff.enabledDone', { name: member.displayName }),
      );
      await queryClient.invalidateQueries({ queryKey: ['staff', 'list'] });
    },
  });
  const columns = useMemo<ColumnDef<StaffMember, unknown>[]>(
    () => [
      {
        // Name over address in one column: at 1280 px the row's actions stay in sight (decision
        // 1180). The value holds both, so the filter finds an address and sorting goes by name.
        id: 'name',
        header: t('staff.nameAndEmail'),
        accessorFn: (row) => `${row.displayName}\n${row.email}`,
        cell: ({ row }) => (
          <Stack gap={0}>
            <Text size="sm" fw={500}>
              {row.original.displayName}
            </Text>
            <Text size="sm" c="dimmed">
              {breakableEmail(row.original.email)}
            </Text>
          </Stack>
        ),
      },
      { id: 'role', header: t('staff.role'), accessorFn: (row) => roleLabel(row.role) },
      {
        id: 'status',
        header: t('staff.status'),
        accessorFn: (row) => (row.status === 'active' ? t('staff.active') : t('staff.disabled')),
        cell: ({ row, getValue }) => (
          // One badge per line, each whole: a narrow column cut them to "eenm…".
          <Stack gap={4} align="flex-start">
            <Badge
              color={row.original.status === 'active' ? 'teal.9' : 'gray.7'}
              tt="none"
              styles={WHOLE_LABEL}
            >
              {String(getValue())}
            </Badge>
            {row.original.mustChangePassword ? (
              <Badge color="yellow.5" tt="none" styles={WHOLE_LABEL}>
                {t('staff.invited')}
              </Badge>
            ) : null}
            {row.original.isLocked ? (
              <Badge color="red.9" tt="none" styles={WHOLE_LABEL}>
                {t('staff.locked')}
              </Badge>
            ) : null}
          </Stack>
        ),
      },
      {
        id: 'mfa',
        header: t('staff.mfa'),
        accessorFn: (row) => (row.mfaEnabled ? t('common.yes') : t('common.no')),
      },
      {
        id: 'created',
        header: t('staff.created'),
        accessorFn: (row) => brusselsToday(new Date(row.createdAt)),
        cell: dayCell,
      },
      ...(mayManage
        ? [
            {
              id: 'actions',
              header: t('common.actions'),
              enableSorting: false,
              cell: ({ row }) => {
                const member = row.original;
                // Never one's own account; the server also keeps the last admin (decision 0020).
                if (member.staffId === me.data?.staffId) return null;
                const name = member.displayName;
                // A forgotten password: a new one-time password from the admin (decision 1062).
                if (member.status === 'active')
                  return (
                    <Stack gap={4} align="flex-start">
                      <Button
                        size="xs"
                        variant="default"
                        aria-label={t('staff.disableNamed', { name })}
                        onClick={() => setStatus.mutate({ member, to: 'disable' })}
                      >
                        {t('staff.disable')}
                      </Button>
                      <Button
                        size="xs"
                        variant="default"
                        aria-label={t('staff.resetPasswordNamed', { name })}
                        onClick={() => setResetting(member)}
                      >
                        {t('staff.resetPassword')}
                      </Button>
                    </Stack>
                  );
                // Removal ends the employment: only a disabled account (0919).
                return (
                  <Stack gap={4} align="flex-start">
                    <Button
                      size="xs"
                      variant="default"
                      aria-label={t('staff.enableNamed', { name })}
                      onClick={() => setStatus.mutate({ member, to: 'enable' })}
                    >
                      {t('staff.enable')}
                    </Button>
                    <Button
                      size="xs"
                      color="red.9"
                      variant="outline"
                      aria-label={t('staff.removeNamed', { name })}
                      onClick={() => setRemoving(member)}
                    >
                      {t('staff.remove')}
                    </Button>
                  </Stack>
                );
              },
            } satisfies ColumnDef<StaffMember, unknown>,
          ]
        : []),
    ],
    [t, roleLabel, mayManage, me.data?.staffId, setStatus],
  );
  // The table keeps each row's cell values until its data changes: new rows when the role labels
  // arrive after the list (else the role column keeps the keys it first drew).
  const rows = useMemo(() => [...(staff.data ?? [])], [staff.data, roleLabel]);
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1}>{t('nav.staff')}</Title>
        <Button onClick={open}>{t('staff.invite')}</Button>
      </Group>
      <FixedPurpose purposeKey="staff_accounts" />
      {staff.error ? <ProblemAlert error={staff.error} /> : null}
      {setStatus.error ? <ProblemAlert error={setStatus.error} /> : null}
      <DataTable
        data={rows}
        columns={columns}
        caption={t('staff.caption', { count: staff.data?.length ?? 0 })}
        initialSorting={[{ id: 'name', desc: false }]}
      />
      <Modal
        opened={opened}
        onClose={close}
        title={t('staff.invite')}
        size="md"
        closeButtonProps={{ 'aria-label': t('common.close') }}
      >
        <InviteForm roles={roles.data ?? []} onClose={close} />
      </Modal>
      <Modal
        opened={removing !== undefined}
        onClose={() => setRemoving(undefined)}
        title={t('staff.removeTitle', { name: removing?.displayName ?? '' })}
        size="md"
        closeButtonProps={{ 'aria-label': t('common.close') }}
      >
        {removing ? (
          <RemoveConfirmation
            member={removing}
            roleLabel={roleLabel(removing.role)}
            onClose={() => setRemoving(undefined)}
          />
        ) : null}
      </Modal>
      <Modal
        opened={resetting !== undefined}
        onClose={() => setResetting(undefined)}
        title={t('staff.resetTitle', { name: resetting?.displayName ?? '' })}
        size="lg"
        closeButtonProps={{ 'aria-label': t('common.close') }}
      >
        {resetting ? <PasswordReset member={resetting} onClose={() => setResetting(undefined)} /> : null}
      </Modal>
    </Stack>
  );
}

/** Says what a removal erases and what stays before it is done; the server refuses an active account. */
function RemoveConfirmation({
  member,
  roleLabel,
  onClose,
}: {
  member: StaffMember;
  roleLabel: string;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: () => api('DELETE', `/api/v1/staff/${member.staffId}`),
    onSuccess: async () => {
      notifySuccess(t('staff.removed', { name: member.displayName }));
      onClose();
      await queryClient.invalidateQueries({ queryKey: ['staff', 'list'] });
    },
  });
  return (
    <Stack gap="sm">
      <Text>{t('staff.removeWho', { name: member.displayName, email: member.email, role: roleLabel })}</Text>
      <Text fw={700}>{t('staff.removeErasedTitle')}</Text>
      <List size="sm">
        <List.Item>{t('staff.removeErasedData')}</List.Item>
        <List.Item>{t('staff.removeErasedAccess')}</List.Item>
      </List>
      <Text fw={700}>{t('staff.removeKeptTitle')}</Text>
      <List size="sm">
        <List.Item>{t('staff.removeKeptAudit', { staffId: member.staffId, role: roleLabel })}</List.Item>
      </List>
      <Text size="sm" c="dimmed">
        {t('staff.removeFinal')}
      </Text>
      {remove.error ? <ProblemAlert error={remove.error} /> : null}
      <Group justify="flex-end">
        <Button variant="default" onClick={onClose}>
          {t('common.cancel')}
        </Button>
        <Button color="red.9" loading={remove.isPending} onClick={() => remove.mutate()}>
          {t('staff.removeSubmit')}
        </Button>
      </Group>
    </Stack>
  );
}

/**
 * A new one-time password for a member who forgot theirs (decision 1062): said what it does, then
 * shown once with a copy button; the server ends the member's sessions and refuses one's own.
 */
function PasswordReset({ member, onClose }: { member: StaffMember; onClose: () => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const reset = useMutation({
    mutationFn: () =>
      api<{ staffId: number; oneTimePassword: string; sessionsEnded: number }>(
        'POST',
        `/api/v1/staff/${member.staffId}/password/reset`,
      ),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['staff', 'list'] });
    },
  });
  const name = member.displayName;
  if (reset.data)
    return (
      <Stack>
        <Alert color="green" title={t('staff.resetDoneTitle', { name })}>
          {t('staff.resetOnce', { name })}
        </Alert>
        <Text size="sm">{t('staff.oneTimePassword')}</Text>
        <Group gap="xs" wrap="nowrap" align="center">
          <Code block fz="lg" data-testid="one-time-password" style={{ flex: 1 }}>
            {reset.data.oneTimePassword}
          </Code>
          <CopyButton value={reset.data.oneTimePassword}>
            {({ copied, copy }) => (
              <Button variant="default" onClick={copy}>
                {copied ? t('staff.copied') : t('staff.copy')}
              </Button>
            )}
          </CopyButton>
        </Group>
        <Button onClick={onClose}>{t('common.close')}</Button>
      </Stack>
    );
  return (
    <Stack gap="sm">
      <Text>{t('staff.resetWho', { name, email: member.email })}</Text>
      <Text size="sm" c="dimmed">
        {t('staff.resetKept')}
      </Text>
      {reset.error instanceof ApiError && reset.error.code === 'conflict' ? (
        <RepeatedReset error={reset.error} name={name} />
      ) : reset.error ? (
        <ProblemAlert error={reset.error} />
      ) : null}
      <Group justify="flex-end">
        <Button variant="default" onClick={onClose}>
          {t('common.cancel')}
        </Button>
        <Button loading={reset.isPending} onClick={() => reset.mutate()}>
          {t('staff.resetSubmit')}
        </Button>
      </Group>
    </Stack>
  );
}

/** How long after a reset the server refuses another while its password is unused (decision 1130). */
const RESET_REPEAT_WINDOW_MS = 60_000;

/**
 * The server's 409 for a reset within a minute of an unused one (decision 1130), said in the
 * dialog in the screen's language with Brussels times to the second (decision 1181): a window of
 * one minute said in whole minutes would name a time still refused. The answer names when, not
 * who: the text says so.
 */
function RepeatedReset({ error, name }: { error: ApiError; name: string }) {
  const { t } = useTranslation();
  const at = error.details?.['previousResetAt'];
  const previous = new Date(typeof at === 'string' ? at : Number.NaN);
  const known = !Number.isNaN(previous.getTime());
  const again = new Date(previous.getTime() + RESET_REPEAT_WINDOW_MS);
  return (
    <Alert color="orange" title={t('staff.resetRepeatedTitle')} role="alert" data-problem-code={error.code}>
      <Stack gap={4}>
        <Text size="sm">
          {known
            ? t('staff.resetRepeatedAt', { name, at: brusselsTime(previous), again: brusselsTime(again) })
            : t('staff.resetRepeatedUnknownAt', { name })}
        </Text>
        <Text size="sm">{t('staff.resetRepeatedWho')}</Text>
      </Stack>
    </Alert>
  );
}

interface InviteValues {
  displayName: string;
  email: string;
  role: string;
}

function InviteForm({ roles, onClose }: { roles: Role[]; onClose: () => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [invited, setInvited] = useState<{ email: string; oneTimePassword: string } | undefined>();
  const form = useForm<InviteValues>({
    initialValues: { displayName: '', email: '', role: '' },
    validate: {
      displayName: (value) => (value.trim() ? null : t('common.required')),
      email: (value) => (/^\S+@\S+\.\S+$/.test(value.trim()) ? null : t('common.emailInvalid')),
      role: (value) => (value ? null : t('common.required')),
    },
  });
  const invite = useMutation({
    mutationFn: (values: InviteValues) =>
      api<{ email: string; oneTimePassword: string }>('POST', '/api/v1/staff', {
        body: { displayName: values.displayName.trim(), email: values.email.trim(), role: values.role },
      }),
    onSuccess: async (answer) => {
      setInvited(answer);
      await queryClient.invalidateQueries({ queryKey: ['staff', 'list'] });
    },
  });
  if (invited)
    return (
      <Stack>
        <Alert color="green" title={t('staff.invitedTitle', { email: invited.email })}>
          {t('staff.invitedText')}
        </Alert>
        <Text size="sm">{t('staff.oneTimePassword')}</Text>
        <Code block fz="lg" data-testid="one-time-password">
          {invited.oneTimePassword}
        </Code>
        <Button onClick={onClose}>{t('common.close')}</Button>
      </Stack>
    );
  return (
    <form onSubmit={form.onSubmit((values) => invite.mutate(values))} noValidate>
      <Stack gap="sm">
        <TextInput label={t('staff.name')} required {...form.getInputProps('displayName')} />
        <TextInput label={t('staff.email')} type="email" required {...form.getInputProps('email')} />
        <Select
          label={t('staff.role')}
          required
          data={roles.map((role) => ({ value: role.key, label: localized(role.label, role.key) }))}
          {...form.getInputProps('role')}
        />
        {invite.error ? <ProblemAlert error={invite.error} /> : null}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            {t('common.cancel')}
          </Button>
          <Button type="submit" loading={invite.isPending}>
            {t('staff.inviteSubmit')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
