import { Select } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client.js';

export interface PersonName {
  subjectId: number;
  familyName?: string | null;
  givenName?: string | null;
  address?: { city: string } | null;
}

export const personName = (person: PersonName): string =>
  [person.givenName, person.familyName].filter(Boolean).join(' ') || `#${person.subjectId}`;

export interface PersonSelectProps {
  /** The purpose the search is made under (it must cover names). */
  purpose: string | undefined;
  label: string;
  description?: string;
  value?: string | null;
  onChange?: (value: string | null) => void;
  error?: ReactNode;
  required?: boolean;
}

/** A person found by the beginning of the family name, under the screen's purpose. */
export function PersonSelect({ purpose, label, description, required = true, ...props }: PersonSelectProps) {
  const { t } = useTranslation();
  const [search, setSearch] = useState('');
  const [debounced] = useDebouncedValue(search.trim(), 250);
  const people = useQuery({
    queryKey: ['people', purpose, { by: 'name', term: debounced }],
    enabled: purpose !== undefined && debounced.length >= 2,
    queryFn: () =>
      api<{ items: PersonName[] }>('GET', '/api/v1/people', {
        purpose,
        query: { name: debounced, limit: 20 },
      }),
  });
  return (
    <Select
      label={label}
      description={description ?? t('sales.personHelp')}
      searchable
      required={required}
      searchValue={search}
      onSearchChange={setSearch}
      nothingFoundMessage={debounced.length >= 2 ? t('common.noRows') : t('sales.typeTwo')}
      data={(people.data?.items ?? []).map((person) => ({
        value: String(person.subjectId),
        label: `${personName(person)}${person.address ? `, ${person.address.city}` : ''} (#${person.subjectId})`,
      }))}
      filter={({ options }) => options}
      {...props}
    />
  );
}
