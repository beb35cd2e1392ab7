// Types of static-files.mjs: content types and COOP/COEP headers of the served site.
/** Content type by file ending (`extname`). */
export declare const CONTENT_TYPES: Readonly<Record<string, string>>;
/** The content type of a file with ending `ext`; `application/octet-stream` for an unknown one. */
export declare function contentType(ext: string): string;
/** COOP/COEP: the headers that make a page cross-origin isolated. */
export declare const ISOLATION_HEADERS: Readonly<Record<string, string>>;
