// Injected into the CommonJS build only (see tsup.config.ts): what `import.meta.url` means there.
export const __wfImportMetaUrl = require('node:url').pathToFileURL(__filename).href;
