/** Placeholder entry: this package has no features yet. */
export {}
