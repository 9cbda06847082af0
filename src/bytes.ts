import b4a from 'b4a'

/**
 * The one adapter for b4a. On Node b4a returns Buffers, but its typings say Uint8Array; these
 * wrappers state what Node really returns so the Buffer-typed Holepunch APIs accept it.
 */
export const alloc = (size: number): Buffer => b4a.alloc(size) as Buffer
export const from = (data: string | Uint8Array | ArrayLike<number>, encoding?: 'hex' | 'utf-8' | 'base64'): Buffer =>
  (typeof data === 'string' ? b4a.from(data, encoding ?? 'utf-8') : b4a.from(data as Uint8Array)) as Buffer
export const concat = (chunks: Uint8Array[]): Buffer => b4a.concat(chunks) as Buffer
export const equals = (a: Uint8Array, b: Uint8Array): boolean => b4a.equals(a, b)
export const compare = (a: Uint8Array, b: Uint8Array): number => b4a.compare(a, b)
export const toString = (buf: Uint8Array, encoding: 'hex' | 'utf-8' | 'base64'): string => b4a.toString(buf, encoding)
export const byteLength = (s: string): number => b4a.byteLength(s, 'utf-8')
export const isBuffer = (v: unknown): v is Buffer => b4a.isBuffer(v)
