// mailauth ships no type declarations; only the DKIM verification the tests use is declared.
declare module 'mailauth/lib/dkim/verify.js' {
  interface DkimResult {
    signingDomain: string;
    selector: string;
    signingHeaders: { keys: string; headers: string[]; canonicalizedHeader: string };
    status: {
      result: 'pass' | 'fail' | 'neutral' | 'none' | 'policy' | 'temperror' | 'permerror';
      comment?: string;
    };
  }
  export function dkimVerify(
    input: string | Buffer,
    options: { resolver: (name: string, type: string) => Promise<string[][]> },
  ): Promise<{ results: DkimResult[] }>;
}
