import type { ReactNode } from 'react';
import type { ScreenKey } from '../purposes/needs.js';

export interface ScreenContext {
  role: string;
  /** The purpose keys of the role (for the routes that act under one fixed purpose). */
  keys: ReadonlySet<string>;
  /** Whether some purpose of the role fits the screen's needs. */
  fits: (screen: ScreenKey) => boolean;
}

export interface ScreenEntry {
  path: string;
  /** i18n key of the navigation label. */
  label: string;
  isFor: (context: ScreenContext) => boolean;
  element: ReactNode;
}

export const SCREENS: ScreenEntry[] = [];
