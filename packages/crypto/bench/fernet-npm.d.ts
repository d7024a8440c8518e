// Just enough of the npm `fernet` package (no types of its own) for the benchmark. It is CommonJS and sets
// its exports at run time, so only its default export is usable from ESM.
declare module 'fernet' {
  class Secret {
    constructor(secret64: string);
  }
  class Token {
    constructor(options: { secret: Secret; token?: string; ttl?: number; time?: string });
    encode(message: string): string;
    decode(token?: string): string;
  }
  const fernet: { Secret: typeof Secret; Token: typeof Token };
  export default fernet;
}
