/** The JSON Schema of lms-backup.yml, derived from the options spec (docs/lms-backup.schema.json). */
import {
  COMMAND_OPTIONS,
  COMMANDS,
  type CommandName,
  FILE_OPTIONS,
  type OptionName,
  specOf,
} from './spec.js';

function optionSchema(name: OptionName, command: CommandName): Record<string, unknown> {
  const spec = specOf(name);
  const d = spec.description;
  const description = typeof d === 'string' ? d : (d[command] ?? '');
  const scalar = { type: ['string', 'number', 'boolean'] };
  if (spec.kind === 'list')
    return { description, oneOf: [{ type: 'string' }, { type: 'array', items: scalar }] };
  if (spec.kind === 'bool') return { description, type: 'boolean' };
  return { description, ...scalar };
}

function sections(): Record<string, unknown> {
  return Object.fromEntries(
    COMMANDS.map((c) => [
      c,
      {
        type: 'object',
        additionalProperties: false,
        properties: Object.fromEntries(
          (COMMAND_OPTIONS[c] as readonly OptionName[])
            .filter((n) => !FILE_OPTIONS.includes(n) && !specOf(n).secret)
            .map((n) => [n, optionSchema(n, c)]),
        ),
      },
    ]),
  );
}

export function configSchema(): Record<string, unknown> {
  const s = sections();
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'lms-backup.yml',
    description:
      'Per-command sections with the same keys as the action inputs; secrets never go here (environment or secret inputs). A fleet names several databases under databases:.',
    type: 'object',
    additionalProperties: false,
    properties: {
      ...s,
      databases: {
        type: 'object',
        additionalProperties: { type: 'object', additionalProperties: false, properties: s },
      },
    },
  };
}

export function configSchemaText(): string {
  return `${JSON.stringify(configSchema(), null, 2)}\n`;
}
