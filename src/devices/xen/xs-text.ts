// Byte strings of the xenstore wire (xs_wire.h: "Generally followed by nul-terminated string(s)"): paths, tokens
// and permissions are ASCII; values are bytes. Latin-1 maps each byte to one character and back, so nothing a
// guest sends is lost or rejected here; validation happens on the strings.

export function bytesOf(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}

export function textOf(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode(...b.subarray(i, i + 4096));
  return s;
}

export interface XsStrings {
  /** The NUL-separated strings (an unterminated tail is the last one). */
  readonly strings: string[];
  /** The payload ends with a NUL (every string is terminated). */
  readonly terminated: boolean;
  /** Length of the first string (the payload's length when it has no NUL). */
  readonly firstLen: number;
}

// guest-controlled: the payload of a request.
export function stringsOf(payload: Uint8Array): XsStrings {
  const strings: string[] = [];
  let start = 0;
  for (let i = 0; i < payload.length; i++) {
    if (payload[i] === 0) { strings.push(textOf(payload.subarray(start, i))); start = i + 1; }
  }
  const terminated = payload.length > 0 && start === payload.length;
  if (start < payload.length) strings.push(textOf(payload.subarray(start)));
  const nul = payload.indexOf(0);
  return { strings, terminated, firstLen: nul < 0 ? payload.length : nul };
}
