import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import { repoRoot } from '../repo';

const root = repoRoot();
const locales = path.join(root, 'locales');
const REFERENCE = 'en-US';
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const types: string[] = Object.keys(pkg['node-red'].nodes);
const languages = fs
  .readdirSync(locales, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && entry.name !== REFERENCE)
  .map((entry) => entry.name)
  .sort();

/** Every leaf of a message catalog by its dotted path: strings, and anything else as found. */
function leaves(value: unknown, prefix = '', into = new Map<string, unknown>()): Map<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value)) leaves(child, prefix ? `${prefix}.${key}` : key, into);
  } else {
    into.set(prefix, value);
  }
  return into;
}

/** The i18next interpolation variables (__name__) a string uses, sorted and without repeats. */
function placeholders(text: string): string[] {
  return [...new Set([...text.matchAll(/__([A-Za-z0-9_.-]+?)__/g)].map((match) => match[1]))].sort();
}

function readCatalog(language: string, type: string): Map<string, unknown> {
  const file = path.join(locales, language, `${type}.json`);
  assert.ok(fs.existsSync(file), `locales/${language}/${type}.json is missing`);
  const text = fs.readFileSync(file, 'utf8');
  let catalog: unknown;
  try {
    catalog = JSON.parse(text);
  } catch (error) {
    assert.fail(`locales/${language}/${type}.json is not valid JSON: ${(error as Error).message}`);
  }
  return leaves(catalog);
}

function stripTags(html: string): string {
  return html
    .replace(/<[^>]*>/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

interface Term {
  /** The term's name without its property-type, e.g. "payload" or "Mode". */
  name: string;
  /** Whether the <dt> names a message property (it carries a property-type), so it must not be translated. */
  property: boolean;
  optional: boolean;
}

interface Section {
  /** The <h3> title, or '' for the text before the first <h3>. */
  title: string;
  lists: number;
  terms: Term[];
}

interface Help {
  names: string[];
  sections: Section[];
  code: string[];
}

function readHelp(language: string, type: string): Help {
  const file = path.join(locales, language, `${type}.html`);
  assert.ok(fs.existsSync(file), `locales/${language}/${type}.html is missing`);
  const html = fs.readFileSync(file, 'utf8');
  const names = [...html.matchAll(/<script type="text\/html" data-help-name="([^"]*)">/g)].map((match) => match[1]);
  const parts = html.split(/<h3>([\s\S]*?)<\/h3>/);
  const sections: Section[] = [];
  for (let index = 0; index < parts.length; index += 2) {
    const body = parts[index];
    const terms = [...body.matchAll(/<dt([^>]*)>([\s\S]*?)<\/dt>/g)].map((match) => ({
      name: stripTags(match[2].replace(/<span class="property-type">[\s\S]*?<\/span>/g, '')),
      property: /<span class="property-type">/.test(match[2]),
      optional: /class="[^"]*\boptional\b/.test(match[1]),
    }));
    const lists = [...body.matchAll(/<dl class="message-properties">/g)].length;
    sections.push({ title: index === 0 ? '' : stripTags(parts[index - 1]), lists, terms });
  }
  const code = [...new Set([...html.matchAll(/<code>([\s\S]*?)<\/code>/g)].map((match) => match[1].trim()))].sort();
  return { names, sections, code };
}

describe('locales', () => {
  it('has at least one translation besides en-US', () => {
    assert.ok(languages.length > 0, 'locales/ holds only en-US');
  });

  for (const language of languages) {
    describe(language, () => {
      for (const type of types) {
        it(`${type}.json has exactly the en-US keys`, () => {
          const reference = readCatalog(REFERENCE, type);
          const translated = readCatalog(language, type);
          const missing = [...reference.keys()].filter((key) => !translated.has(key));
          const extra = [...translated.keys()].filter((key) => !reference.has(key));
          const mistyped = [...reference].filter(([key, value]) => translated.has(key) && typeof translated.get(key) !== typeof value).map(([key, value]) => `${key} (not a ${typeof value})`);
          const problems = [...missing.map((key) => `missing ${key}`), ...extra.map((key) => `extra ${key}`), ...mistyped.map((key) => `wrong type ${key}`)];
          if (problems.length) assert.fail(`locales/${language}/${type}.json:\n  ${problems.join('\n  ')}`);
        });

        it(`${type}.json keeps the en-US __placeholders__ of every string`, () => {
          const reference = readCatalog(REFERENCE, type);
          const translated = readCatalog(language, type);
          const problems: string[] = [];
          for (const [key, value] of reference) {
            const other = translated.get(key);
            if (typeof value !== 'string' || typeof other !== 'string') continue;
            const expected = placeholders(value);
            const actual = placeholders(other);
            if (expected.join() !== actual.join()) problems.push(`${key}: en-US has ${JSON.stringify(expected)}, ${language} ${JSON.stringify(actual)}`);
          }
          if (problems.length) assert.fail(`locales/${language}/${type}.json:\n  ${problems.join('\n  ')}`);
        });

        it(`${type}.html is the same help as en-US, section for section`, () => {
          const reference = readHelp(REFERENCE, type);
          const translated = readHelp(language, type);
          const problems: string[] = [];
          if (translated.names.join() !== type) {
            problems.push(`expected one <script type="text/html" data-help-name="${type}">, found ${JSON.stringify(translated.names)}`);
          }
          const titles = (help: Help) => help.sections.slice(1).map((section) => section.title);
          if (translated.sections.length !== reference.sections.length) {
            problems.push(`<h3> sections: en-US ${JSON.stringify(titles(reference))}, ${language} ${JSON.stringify(titles(translated))}`);
          } else {
            reference.sections.forEach((section, index) => {
              const other = translated.sections[index];
              const label = index === 0 ? 'before the first <h3>' : `<h3> ${index} ("${section.title}" / "${other.title}")`;
              if (other.lists !== section.lists) problems.push(`${label}: ${other.lists} message-properties lists, en-US has ${section.lists}`);
              if (other.terms.length !== section.terms.length) {
                problems.push(`${label}: ${other.terms.length} <dt>, en-US has ${section.terms.length}`);
                return;
              }
              section.terms.forEach((term, position) => {
                const mine = other.terms[position];
                const which = `${label}, <dt> ${position + 1} ("${term.name}" / "${mine.name}")`;
                if (term.property && mine.name !== term.name) problems.push(`${which}: a property name must stay as it is`);
                if (mine.property !== term.property) problems.push(`${which}: property-type ${mine.property ? 'added' : 'missing'}`);
                if (mine.optional !== term.optional) problems.push(`${which}: class="optional" ${mine.optional ? 'added' : 'missing'}`);
              });
            });
          }
          const missing = reference.code.filter((code) => !translated.code.includes(code));
          const extra = translated.code.filter((code) => !reference.code.includes(code));
          if (missing.length || extra.length) problems.push(`<code>: missing ${JSON.stringify(missing)}, extra ${JSON.stringify(extra)}`);
          if (problems.length) assert.fail(`locales/${language}/${type}.html:\n  ${problems.join('\n  ')}`);
        });
      }

      it('names each en-US section the same way in every help', () => {
        const titles = new Map<string, Set<string>>();
        for (const type of types) {
          const reference = readHelp(REFERENCE, type).sections;
          const translated = readHelp(language, type).sections;
          reference.forEach((section, index) => {
            if (index === 0 || !translated[index]) return;
            const seen = titles.get(section.title) ?? new Set<string>();
            seen.add(translated[index].title);
            titles.set(section.title, seen);
          });
        }
        const inconsistent = [...titles].filter(([, seen]) => seen.size > 1).map(([title, seen]) => `${title} → ${[...seen].join(' | ')}`);
        assert.deepEqual(inconsistent, [], `locales/${language}: one en-US <h3> has several translations`);
      });
    });
  }
});
