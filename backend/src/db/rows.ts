import duckdb from '@duckdb/node-bindings';
import {
  DuckDBTypeId,
  JSDuckDBValueConverter,
  type DuckDBDataChunk,
  type DuckDBMaterializedResult,
  type DuckDBType,
  type DuckDBVector,
  type DuckDBValue,
} from '@duckdb/node-api';

export type Value = string | number | boolean | null;
export type Row = Record<string, Value>;

/**
 * The rows of a result, read synchronously: a materialized result already holds all of its
 * chunks, and the library's readers fetch each one (and a last, empty one) with a round trip
 * through the thread pool — two wake-ups of another thread per chunk, ~0.1 ms of CPU each on
 * these VMs, for every query. Read a column at a time, so each column's type picks its reader
 * once rather than once per value: opening a 500-message conversation costs ~12 % less CPU than
 * with the library's row-by-row conversion (docs/benchmarks.md, Findings 18). Text and
 * timestamps, most of what is read, come straight from the vectors' bytes (Findings 20).
 */
export function rowsOf(result: DuckDBMaterializedResult): Row[] {
  const names = result.deduplicatedColumnNames();
  const types = names.map((_, column) => result.columnType(column));
  const rows: Row[] = [];
  for (let index = 0; index < result.chunkCount; index += 1) {
    const chunk = result.getChunk(index);
    const count = chunk.rowCount;
    const first = rows.length;
    for (let row = 0; row < count; row += 1) rows.push({});
    for (let column = 0; column < names.length; column += 1) {
      const name = names[column]!;
      const values = columnValues(chunk, column, types[column]!, count);
      for (let row = 0; row < count; row += 1) rows[first + row]![name] = values[row]!;
    }
  }
  return rows;
}

/** One column of a chunk: text and timestamps straight from the vector, the rest by the library. */
function columnValues(
  chunk: DuckDBDataChunk,
  column: number,
  type: DuckDBType,
  count: number,
): Value[] {
  if (type.typeId === DuckDBTypeId.VARCHAR) {
    return readText(duckdb.data_chunk_get_vector(chunk.chunk, column), count);
  }
  if (type.typeId === DuckDBTypeId.TIMESTAMP || type.typeId === DuckDBTypeId.TIMESTAMP_TZ) {
    const raw = duckdb.data_chunk_get_vector(chunk.chunk, column);
    return readTimestamps(raw, count, () => chunk.getColumnVector(column), type);
  }
  const vector = chunk.getColumnVector(column);
  const read = readerOf(type);
  const values = new Array<Value>(count);
  for (let row = 0; row < count; row += 1) values[row] = read(vector.getItem(row));
  return values;
}

/** A vector's validity mask has a bit per row, set when the value is not NULL; none: no NULLs. */
const isNull = (validity: Uint8Array | null, row: number) =>
  validity !== null && (validity[row >> 3]! & (1 << (row & 7))) === 0;

// Keeps a leading U+FEFF, as connection.ts's keepLeadingByteOrderMarks makes the library do.
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
const TWO_TO_THE_32 = 4_294_967_296;
/**
 * Two strings whose bytes are at most this far apart are read through one view: the bytes
 * between them are then on the page of one of the two or on the next, so mapped memory.
 */
const NEAR = 16;

/**
 * A VARCHAR vector's strings. The library asks the native side for a new Buffer for every
 * string over 12 bytes (the shorter ones are inside the vector) — ~1.3 µs of CPU each here,
 * ~2,750 of them to open a 500-message conversation (docs/benchmarks.md, Findings 20). DuckDB
 * keeps a result's strings next to one another, so this asks for one view per run of adjacent
 * strings and decodes each string from its part of the view; a string elsewhere starts a run
 * of its own. Only the strings' own bytes are decoded, never what lies between two of them.
 *
 * A `duckdb_string_t` is 16 bytes: its length (uint32), then either the string inline (up to
 * 12 bytes) or a 4-byte prefix and a pointer to the bytes (little-endian, as on every platform
 * DuckDB ships a build of).
 */
function readText(vector: duckdb.Vector, count: number): (string | null)[] {
  const texts = new Array<string | null>(count);
  if (count === 0) return texts;
  const data = duckdb.vector_get_data(vector, count * 16);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const validity = duckdb.vector_get_validity(vector, Math.ceil(count / 64) * 8);
  // The current run: the row of its first string, where its bytes start and end in memory,
  // and its strings as (row, address, length) triples from `firstPending` on.
  const pending: number[] = [];
  let runRow = -1;
  let runStart = 0;
  let runEnd = 0;
  let firstPending = 0;
  const readRun = () => {
    const bytes = duckdb.get_data_from_pointer(
      data.buffer as ArrayBuffer,
      data.byteOffset + runRow * 16 + 8,
      runEnd - runStart,
    );
    for (let k = firstPending; k < pending.length; k += 3) {
      const at = pending[k + 1]! - runStart;
      texts[pending[k]!] = utf8.decode(bytes.subarray(at, at + pending[k + 2]!));
    }
    firstPending = pending.length;
  };
  for (let row = 0; row < count; row += 1) {
    if (isNull(validity, row)) {
      texts[row] = null;
      continue;
    }
    const offset = row * 16;
    const length = view.getUint32(offset, true);
    if (length <= 12) {
      texts[row] = utf8.decode(data.subarray(offset + 4, offset + 4 + length));
      continue;
    }
    const address =
      view.getUint32(offset + 12, true) * TWO_TO_THE_32 + view.getUint32(offset + 8, true);
    const end = address + length;
    if (runRow >= 0 && address >= runStart && end <= runEnd) {
      // Inside the run already (the same string again, or part of one).
    } else if (runRow >= 0 && address >= runEnd && address - runEnd <= NEAR) {
      runEnd = end;
    } else {
      if (runRow >= 0) readRun();
      runRow = row;
      runStart = address;
      runEnd = end;
    }
    pending.push(row, address, length);
  }
  if (runRow >= 0) readRun();
  return texts;
}

/**
 * A TIMESTAMP or TIMESTAMPTZ vector as ISO 8601 in UTC with milliseconds, as
 * `Date.toISOString()` writes them. Each is 8 bytes of microseconds since 1970, read here as two
 * halves: the library makes a BigInt and a value object of each (~1.2 µs a timestamp with the
 * ISO text, ~1,250 of them to open a 500-message conversation; Findings 20). Beyond ±2^52 µs
 * (before 1827 or after 2112), where halves would lose precision, as a BigInt. Always the
 * millisecond the time falls in, before 1970 too (the library rounds those towards 1970).
 * Beyond what a Date holds, DuckDB's ±infinity among them, the library's conversion decides.
 */
function readTimestamps(
  vector: duckdb.Vector,
  count: number,
  libraryVector: () => DuckDBVector,
  type: DuckDBType,
): Value[] {
  const times = new Array<Value>(count);
  if (count === 0) return times;
  const data = duckdb.vector_get_data(vector, count * 8);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const validity = duckdb.vector_get_validity(vector, Math.ceil(count / 64) * 8);
  const iso = isoFormatter();
  let library: DuckDBVector | undefined;
  let beyond: ValueReader | undefined;
  for (let row = 0; row < count; row += 1) {
    if (isNull(validity, row)) {
      times[row] = null;
      continue;
    }
    const high = view.getInt32(row * 8 + 4, true);
    if (high >= -1_048_576 && high < 1_048_576) {
      const micros = high * TWO_TO_THE_32 + view.getUint32(row * 8, true);
      times[row] = iso(Math.floor(micros / 1000));
      continue;
    }
    const micros = view.getBigInt64(row * 8, true);
    const millis = Number(micros >= 0n ? micros / 1000n : -((999n - micros) / 1000n));
    if (Math.abs(millis) <= 8.64e15) {
      times[row] = iso(millis);
    } else {
      library ??= libraryVector();
      beyond ??= viaLibrary(type);
      times[row] = beyond(library.getItem(row));
    }
  }
  return times;
}

const DAY = 86_400_000;
const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, '0'));

/**
 * `new Date(millis).toISOString()` for times a Date holds, ~3 times cheaper here when many fall
 * on one day, as a conversation's do (Findings 20): Date writes the date part once per day, the
 * time of day comes from tables of digits.
 */
function isoFormatter(): (millis: number) => string {
  let day = Number.NaN;
  let datePart = '';
  return (millis) => {
    const days = Math.floor(millis / DAY);
    if (days !== day) {
      day = days;
      const midnight = new Date(days * DAY).toISOString();
      datePart = midnight.slice(0, midnight.indexOf('T') + 1);
    }
    let rest = millis - days * DAY;
    const hours = Math.floor(rest / 3_600_000);
    rest -= hours * 3_600_000;
    const minutes = Math.floor(rest / 60_000);
    rest -= minutes * 60_000;
    const seconds = Math.floor(rest / 1000);
    return `${datePart}${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds]}.${THREE_DIGITS[rest - seconds * 1000]}Z`;
  };
}

type ValueReader = (value: DuckDBValue) => Value;

const asIs: ValueReader = (value) => value as Value;
const bigintAsNumber: ValueReader = (value) => (value === null ? null : Number(value));
/** The library's conversion, made JSON-ready: for the types read rarely. */
const viaLibrary =
  (type: DuckDBType): ValueReader =>
  (value) =>
    plain(JSDuckDBValueConverter(value, type, JSDuckDBValueConverter));
function readerOf(type: DuckDBType): ValueReader {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return asIs;
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
      return bigintAsNumber;
    default:
      return viaLibrary(type);
  }
}

/** BIGINT and counts come back as bigint, timestamps as Date: turn them into JSON-ready values. */
export function plain(value: unknown): Value {
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.toISOString();
  if (value === undefined) return null;
  return value as Value;
}
