// The generated references (docs/configuration.md, docs/metrics.md) are Markdown tables.

/** `text` as one table cell: a `|` in it would end the cell. */
export const markdownCell = (text: string): string => text.replaceAll('|', '\\|');
