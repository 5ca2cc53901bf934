/**
 * The one HTML escaper (issue 12 found three copies): text and attribute values that reach a page
 * — names, addresses, policy texts — are user or policy input. The five characters that can end a
 * text node or a quoted attribute are replaced; nothing else is needed inside either.
 */
const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ENTITIES[char] ?? char);
}
