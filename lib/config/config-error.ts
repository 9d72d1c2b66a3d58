// A configuration problem, worded as one line that names the file, field or value at fault.

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
