import {
  Alert,
  Button,
  Code,
  Group,
  NumberInput,
  Select,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useCan, useMe } from '../../api/auth.js';
import { api } from '../../api/client.js';
import { localized } from '../../purposes/usePurpose.js';
import { brusselsToday, dayCell, formatMoment } from '../../ui/dates.js';
import { DataTable } from '../../ui/DataTable.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';
import { useRoleLabel, useRoles } from './StaffPage.js';

interface ApiToken {
  tokenId: number;
  label: string;
  role: string;
  createdBy: number;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  expiresAt: string;
  status: 'active' | 'expired' | 'revoked';
}

/** API tokens: scoped to one role (at most one's own), shown once, revoked at once. */
export function TokensPage() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const me = useMe();
  const can = useCan();
  // Another role than one's own is for those who manage staff; the others see their own role only.
  const roles = useRoles(can('staffAccounts'));
  const tokens = useQuery({
    queryKey: ['tokens'],
    queryFn: async () => (await api<{ items: ApiToken[] }>('GET', '/api/v1/tokens')).items,
  });
  const [made, setMade] = useState<string | undefined>();
  const form = useForm({
    initialValues: { label: '', role: me.data?.role ?? '', expiresInDays: 90 as number | string },
    validate: {
      label: (value) => (value.trim() ? null : t('common.required')),
      role: (value) => (value ? null : t('common.required')),
    },
  });
  const create = useMutation({
    mutationFn: (values: { label: string; role: string; expiresInDays: number | string }) =>
      api<{ token: string }>('POST', '/api/v1/tokens', {
        body: { label: values.label.trim(), role: values.role, expiresInDays: Number(values.expiresInDays) },
      }),
    onSuccess: async (answer) => {
      setMade(answer.token);
      form.reset();
      await queryClient.invalidateQueries({ queryKey: ['tokens'] });
    },
  });
  const revoke = useMutation({
    mutationFn: (tokenId: number) => api('DELETE', `/api/v1/tokens/${tokenId}`),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['tokens'] }),
  });
  const roleLabel = useRoleLabel();
  const roleOptions = (roles.data ?? []).map((role) => ({
    value: role.key,
    label: localized(role.label, role.key),
  }));
  const columns = useMemo<ColumnDef<ApiToken, unknown>[]>(
    () => [
      { id: 'label', header: t('tokens.label'), accessorKey: 'label' },
      { id: 'role', header: t('staff.role'), accessorFn: (row) => roleLabel(row.role) },
      {
        id: 'created',
        header: t('staff.created'),
        accessorFn: (row) => brusselsToday(new Date(row.createdAt)),
        cell: dayCell,
      },
      {
        id: 'expires',
        header: t('tokens.expires'),
        accessorFn: (row) => brusselsToday(new Date(row.expiresAt)),
        cell: dayCell,
      },
      {
        id: 'used',
        header: t('tokens.lastUsed'),
        // The ISO moment sorts; the cell says it in Brussels time.
        accessorFn: (row) => row.lastUsedAt ?? '',
        cell: ({ row }) => (row.original.lastUsedAt ? formatMoment(row.original.lastUsedAt) : '—'),
      },
      {
        id: 'revoke',
        header: t('common.actions'),
        enableSorting: false,
        cell: ({ row }) =>
          // An expired or revoked token opens nothing: the cell says which, instead of a button.
          row.original.status !== 'active' ? (
            <Text size="sm" c="dimmed">
              {t(row.original.status === 'revoked' ? 'tokens.revoked' : 'tokens.expired')}
            </Text>
          ) : (
            <Button
              size="xs"
              color="red.9"
              variant="outline"
              aria-label={t('tokens.revokeNamed', { label: row.original.label })}
              onClick={() => revoke.mutate(row.original.tokenId)}
            >
              {t('tokens.revoke')}
            </Button>
          ),
      },
    ],
    [t, revoke, roleLabel],
  );
  // New rows when the role labels arrive after the list (the table keeps drawn cell values).
  const rows = useMemo(() => [...(tokens.data ?? [])], [tokens.data, roleLabel]);
  return (
    <Stack>
      <Title order={1}>{t('nav.tokens')}</Title>
      <Text c="dimmed">{t('tokens.intro')}</Text>
      {made ? (
        <Alert color="green" title={t('tokens.made')}>
          <Code block data-testid="api-token">
            {made}
          </Code>
        </Alert>
      ) : null}
      <form onSubmit={form.onSubmit((values) => create.mutate(values))} noValidate>
        <Group align="flex-end">
          <TextInput label={t('tokens.label')} required {...form.getInputProps('label')} />
          <Select
            label={t('staff.role')}
            required
            data={
              roleOptions.length > 0
                ? roleOptions
                : me.data
                  ? [{ value: me.data.role, label: roleLabel(me.data.role) }]
                  : []
            }
            {...form.getInputProps('role')}
          />
          <NumberInput
            label={t('tokens.validDays')}
            min={1}
            max={365}
            allowDecimal={false}
            required
            {...form.getInputProps('expiresInDays')}
          />
          <Button type="submit" loading={create.isPending}>
            {t('tokens.create')}
          </Button>
        </Group>
      </form>
      {create.error ? <ProblemAlert error={create.error} /> : null}
      {revoke.error ? <ProblemAlert error={revoke.error} /> : null}
      {tokens.error ? <ProblemAlert error={tokens.error} /> : null}
      <DataTable data={rows} columns={columns} caption={t('tokens.caption')} />
    </Stack>
  );
}
