// Replaced at bundle time would be nicer; the package version is small enough to keep here.
export const TOOL_VERSION = '0.1.0';
