import { Select, Textarea } from '@mantine/core';
import type { UseFormReturnType } from '@mantine/form';

export interface DecisionWithReasonProps<D extends string> {
  /** A form with the fields `decision` and `reason`. */
  form: UseFormReturnType<{ decision: D; reason: string }>;
  label: string;
  /** A disabled choice stays listed, so the person sees it exists and (from the screen) why not now. */
  choices: Array<{ value: D; label: string; disabled?: boolean }>;
  /** The choice that needs a reason in words: the reason's box shows only for it. */
  reasonFor: D;
  reasonLabel: string;
  reasonHelp: string;
}

/** A decision picked from a list and, for the one choice that needs it, the reason why (required). */
export function DecisionWithReason<D extends string>({
  form,
  label,
  choices,
  reasonFor,
  reasonLabel,
  reasonHelp,
}: DecisionWithReasonProps<D>) {
  return (
    <>
      <Select label={label} allowDeselect={false} data={choices} {...form.getInputProps('decision')} />
      {form.values.decision === reasonFor ? (
        <Textarea
          label={reasonLabel}
          description={reasonHelp}
          required
          autosize
          minRows={2}
          {...form.getInputProps('reason')}
        />
      ) : null}
    </>
  );
}
