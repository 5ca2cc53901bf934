// saxon-js ships no type declarations; only the two calls the tests use are declared.
declare module 'saxon-js' {
  interface TransformOptions {
    stylesheetInternal: unknown;
    sourceText: string;
    destination: 'document';
  }
  interface XPathOptions {
    namespaceContext?: Record<string, string>;
    resultForm?: 'array' | 'iterator' | 'default';
  }
  const SaxonJS: {
    transform(options: TransformOptions, mode: 'async'): Promise<{ principalResult: unknown }>;
    XPath: { evaluate(expression: string, context: unknown, options?: XPathOptions): unknown };
  };
  export default SaxonJS;
}
