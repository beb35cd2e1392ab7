// Generates the API reference (Markdown for VitePress) from the TSDoc of every public entry point of every
// published `@wf/*` package, with TypeDoc + typedoc-plugin-markdown + typedoc-vitepress-theme. Fails when
// an exported symbol (or a member of one) has no doc comment: TypeDoc's `notDocumented` validation with
// warnings treated as errors. Sources are read directly (tsconfig.api.json maps `@wf/*` to `src`), so
// cross-package types link to each other and no build is needed first.
import { existsSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { OPS } from '@wf/core';
import {
  Application,
  Comment,
  Converter,
  type DeclarationReflection,
  LogLevel,
  type ProjectReflection,
  type Reflection,
  ReflectionKind,
  type TypeDocOptions,
} from 'typedoc';
import { DOCS_ROOT, type PublicEntry, publicPackages, REPO_ROOT } from './packages';

/** Options of {@link generateApi}. */
export interface GenerateApiOptions {
  /** Entry points to document (default: every public entry of every published package). */
  entries?: PublicEntry[];
  /** Output folder (default `docs/api`); removed first. */
  out?: string;
  /** tsconfig TypeDoc compiles with (default `docs/tsconfig.api.json`). */
  tsconfig?: string;
  /** Print TypeDoc's info messages. */
  verbose?: boolean;
}

/** What {@link generateApi} produced. */
export interface GenerateApiResult {
  /** The documented entries (those whose source exists). */
  entries: PublicEntry[];
  /** Entries skipped because their source file does not exist yet. */
  skipped: PublicEntry[];
  /** Milliseconds the generation took. */
  ms: number;
}

/** Thrown when TypeDoc reports errors or validation warnings (e.g. an undocumented export). */
export class ApiDocsError extends Error {
  override name = 'ApiDocsError';
}

/** Whether `WF_DOCS_LAX_API=1` may demote validation warnings (only outside CI: `CI` unset, '', 'false' or '0'). */
function laxAllowed(): boolean {
  const ci = process.env.CI;
  const inCI = ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
  return process.env.WF_DOCS_LAX_API === '1' && !inCI;
}

/** Runs TypeDoc; throws {@link ApiDocsError} on any error or validation warning. */
export async function generateApi(opts: GenerateApiOptions = {}): Promise<GenerateApiResult> {
  const t0 = performance.now();
  const packages = publicPackages();
  const all = opts.entries ?? packages.flatMap((p) => p.entries);
  const entries = all.filter((e) => existsSync(e.source));
  const skipped = all.filter((e) => !existsSync(e.source));
  const out = opts.out ?? join(DOCS_ROOT, 'api');
  rmSync(out, { recursive: true, force: true });

  // Options of the two plugins (typedoc-vitepress-theme, typedoc-plugin-markdown); TypeDoc's own types
  // do not know them.
  const pluginOptions = {
    docsRoot: DOCS_ROOT,
    sidebar: { autoConfiguration: true, format: 'vitepress', pretty: true, collapsed: true },
    excludeScopesInPaths: true,
    useCodeBlocks: true,
    parametersFormat: 'table',
    interfacePropertiesFormat: 'table',
    classPropertiesFormat: 'table',
    typeDeclarationFormat: 'table',
    enumMembersFormat: 'table',
    indexFormat: 'table',
  };
  const typedocOptions: TypeDocOptions = {
    entryPoints: entries.map((e) => e.source),
    entryPointStrategy: 'resolve',
    tsconfig: opts.tsconfig ?? join(DOCS_ROOT, 'tsconfig.api.json'),
    plugin: ['typedoc-plugin-markdown', 'typedoc-vitepress-theme'],
    out,
    readme: 'none',
    name: 'API reference',
    disableSources: true,
    excludePrivate: true,
    excludeProtected: true,
    excludeInternal: true,
    excludeExternals: true,
    skipErrorChecking: true,
    sort: ['kind', 'alphabetical'],
    logLevel: opts.verbose ? LogLevel.Info : LogLevel.Warn,
    // TypeDoc only requires docs from the package it runs in (@wf/docs) unless told otherwise.
    packagesRequiringDocumentation: packages.map((p) => p.name),
    validation: { notExported: false, invalidLink: true, rewrittenLink: true, notDocumented: true },
    treatWarningsAsErrors: false,
    treatValidationWarningsAsErrors: true,
  };
  const app = await Application.bootstrapWithPlugins({ ...typedocOptions, ...pluginOptions });

  // Module reflections are named after their package entry (`@wf/models/node`), not their file path.
  const bySource = new Map(entries.map((e) => [e.source, e.specifier]));
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection: DeclarationReflection) => {
    if (!reflection.kindOf(ReflectionKind.Module)) return;
    const symbol = context.getSymbolFromReflection(reflection);
    const file = symbol?.declarations?.[0]?.getSourceFile().fileName;
    const name = file ? bySource.get(file) : undefined;
    if (name) reflection.name = name;
  });

  const project = await app.convert();
  if (!project) throw new ApiDocsError('TypeDoc could not convert the packages (see the messages above)');
  documentOpAttrMap(project);
  // Members of inline object types (`{ top: number; left: number }`) are described by their owner's
  // comment; every exported symbol and every member of an exported class or interface needs its own.
  app.options.setValue('intentionallyNotDocumented', undocumentedInlineMembers(project));
  app.validate(project);
  if (app.logger.hasErrors() || app.logger.hasWarnings()) {
    const msg =
      `API reference: TypeDoc reported ${app.logger.errorCount} error(s) and ${app.logger.warningCount} ` +
      'warning(s) (see above); every export and every member of one needs a TSDoc comment';
    // Local escape hatch while someone else's new export is undocumented; never honoured in CI.
    if (!laxAllowed() || app.logger.hasErrors()) throw new ApiDocsError(msg);
    console.warn(`${msg} (ignored: WF_DOCS_LAX_API=1)`);
  }
  await app.generateOutputs(project);
  if (app.logger.errorCount > 0) throw new ApiDocsError('API reference: TypeDoc failed to write the pages');
  const ms = performance.now() - t0;
  if (opts.verbose) console.log(`API reference: ${entries.length} entries -> ${relative(REPO_ROOT, out)}`);
  return { entries, skipped, ms };
}

/**
 * `OpAttrMap` has one member per op of the table; each member's doc is the op's own `OPS[name].doc`, the
 * single source of truth (a hand-written comment in the source wins).
 */
function documentOpAttrMap(project: ProjectReflection): void {
  const map = project.getChildByName(['@wf/core', 'OpAttrMap']) as DeclarationReflection | undefined;
  for (const member of map?.children ?? []) {
    if (member.hasComment()) continue;
    const def = (OPS as Record<string, { doc: string; kind: string } | undefined>)[member.name];
    if (!def) continue;
    member.comment = new Comment([
      { kind: 'text', text: `Attributes of the \`${member.name}\` op (${def.kind}): ${def.doc}` },
    ]);
  }
}

/** Friendly names of undocumented properties that belong to an inline (anonymous) object type. */
function undocumentedInlineMembers(project: ProjectReflection): string[] {
  return project
    .getReflectionsByKind(ReflectionKind.Property)
    .filter((r) => !r.hasComment() && r.parent?.kindOf(ReflectionKind.TypeLiteral) && !inParameter(r))
    .map((r) => r.getFriendlyFullName());
}

/** Whether a reflection is inside a parameter's type (TypeDoc never asks those for docs). */
function inParameter(r: Reflection): boolean {
  for (let p = r.parent; p; p = p.parent) if (p.kindOf(ReflectionKind.Parameter)) return true;
  return false;
}
