/**
 * The closed set of failures a use case can report. The HTTP layer maps each kind to one status,
 * in one place (src/http/errors.ts).
 */
export type ErrorKind =
  | 'invalid'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  /** Understood but refused by a business rule about the data given (a vendor that does not cover the category). */
  | 'unprocessable'
  /** Existed once, no more (an expired link). */
  | 'gone'
  | 'too_large'
  | 'rate_limited'
  | 'unavailable';

export interface ErrorDetail {
  path: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const invalid = (code: string, message: string, details?: ErrorDetail[]) =>
  new DomainError('invalid', code, message, details);
export const notFound = (what: string) => new DomainError('not_found', 'not_found', `${what} not found`);
export const forbidden = (message = 'You are not allowed to do this') =>
  new DomainError('forbidden', 'forbidden', message);
export const unprocessable = (code: string, message: string, details?: ErrorDetail[]) =>
  new DomainError('unprocessable', code, message, details);
export const gone = (code: string, message: string) => new DomainError('gone', code, message);
export const conflict = (code: string, message: string) => new DomainError('conflict', code, message);

/** A schema issue path as people read it: ['cells', 8, 'actions', 0, 'en'] -> "cells[8].actions[0].en". */
export function issuePath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>(
    (out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
    '',
  );
}
