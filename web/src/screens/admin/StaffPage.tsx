import {
  Alert,
  Badge,
  Button,
  Code,
  Group,
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
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Localized } from '../../api/auth.js';
import { api } from '../../api/client.js';
import { FixedPurpose } from '../../purposes/FixedPurpose.js';
import { localized } from '../../purposes/usePurpose.js';
import { DataTable } from '../../ui/DataTable.js';
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

/** Staff accounts: who has which role, second factor, state; invite a new staff member. */
export function StaffPage() {
  const { t } = useTranslation();
  const staff = useStaff();
  const roles = useRoles();
  const [opened, { open, close }] = useDisclosure(false);
  const roleLabel = useMemo(() => {
    const labels = new Map((roles.data ?? []).map((role) => [role.key, role.label]));
    return (key: string) => localized(labels.get(key), key);
  }, [roles.data]);
  const columns = useMemo<ColumnDef<StaffMember, unknown>[]>(
    () => [
      { id: 'name', header: t('staff.name'), accessorKey: 'displayName' },
      { id: 'email', header: t('staff.email'), accessorKey: 'email' },
      { id: 'role', header: t('staff.role'), accessorFn: (row) => roleLabel(row.role) },
      {
        id: 'status',
        header: t('staff.status'),
        accessorFn: (row) => (row.status === 'active' ? t('staff.active') : t('staff.disabled')),
        cell: ({ row, getValue }) => (
          <Group gap={4}>
            <Badge color={row.original.status === 'active' ? 'teal.9' : 'gray.7'} tt="none">
              {String(getValue())}
            </Badge>
            {row.original.mustChangePassword ? (
              <Badge color="yellow.5" tt="none">
                {t('staff.invited')}
              </Badge>
            ) : null}
            {row.original.isLocked ? (
              <Badge color="red.9" tt="none">
                {t('staff.locked')}
              </Badge>
            ) : null}
          </Group>
        ),
      },
      {
        id: 'mfa',
        header: t('staff.mfa'),
        accessorFn: (row) => (row.mfaEnabled ? t('common.yes') : t('common.no')),
      },
      { id: 'created', header: t('staff.created'), accessorFn: (row) => row.createdAt.slice(0, 10) },
    ],
    [t, roleLabel],
  );
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1}>{t('nav.staff')}</Title>
        <Button onClick={open}>{t('staff.invite')}</Button>
      </Group>
      <FixedPurpose purposeKey="staff_accounts" />
      {staff.error ? <ProblemAlert error={staff.error} /> : null}
      <DataTable
        data={staff.data ?? []}
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
    </Stack>
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
