// Hprose tag bytes (docs/hprose.md §2.1 value tags, §3 RPC tags), as plain numbers for fast switches.

/** Value tags of the serialization format, shared by Hprose 2.0 and 3.0. */
export const Tag = {
  Integer: 0x69, // 'i' int32: i<sint>;
  Long: 0x6c, // 'l' unbounded integer: l<sint>;
  Double: 0x64, // 'd' d<decimal>;
  NaN: 0x4e, // 'N'
  Infinity: 0x49, // 'I' followed by '+' or '-'
  True: 0x74, // 't' (also the 2.0 byref flag after the arguments)
  False: 0x66, // 'f'
  Null: 0x6e, // 'n'
  Empty: 0x65, // 'e' empty string
  UTF8Char: 0x75, // 'u' one UTF-16 unit
  String: 0x73, // 's' s<units>"<utf8>"
  Bytes: 0x62, // 'b' b<len>"<raw>"
  Date: 0x44, // 'D' yyyymmdd
  Time: 0x54, // 'T' hhmmss[.fff[fff[fff]]]
  Guid: 0x67, // 'g' g{8-4-4-4-12}
  List: 0x61, // 'a' a<n>{...}
  Map: 0x6d, // 'm' m<n>{k v ...}
  Class: 0x63, // 'c' c<len>"name"<n>{fieldnames}
  Object: 0x6f, // 'o' o<classref>{values}
  Ref: 0x72, // 'r' r<index>;
  Error: 0x45, // 'E' exception; a value in 3.0 data, the error reply in RPC

  // Punctuation inside values.
  Pos: 0x2b, // '+'
  Neg: 0x2d, // '-'
  Semicolon: 0x3b, // ';' ends numbers, refs and local dates
  UTC: 0x5a, // 'Z' ends UTC dates
  Point: 0x2e, // '.' fraction of a double or a time
  Quote: 0x22, // '"'
  OpenBrace: 0x7b, // '{'
  CloseBrace: 0x7d, // '}'

  // RPC framing tags (§3): not values, but the RPC layer peeks and writes them through Reader/Writer.
  Header: 0x48, // 'H' 3.0 header map
  Call: 0x43, // 'C'
  Result: 0x52, // 'R'
  Argument: 0x41, // 'A' 2.0 byref arguments
  FunctionList: 0x46, // 'F' 2.0 function list
  End: 0x7a, // 'z'
} as const

/** Readable form of a tag byte for error messages: `'a'` or `0x01`, `end of input` for -1. */
export function tagName(tag: number): string {
  if (tag < 0) return 'end of input'
  if (tag >= 0x21 && tag <= 0x7e) return `'${String.fromCharCode(tag)}'`
  return `0x${tag.toString(16).padStart(2, '0')}`
}
