// The IOMMU's fault log: records in the RISC-V IOMMU spec's fault-queue record format (§ "Fault/Event-Queue":
// CAUSE, PID, PV, PRIV, TTYP, DID, iotval, iotval2; 32 bytes, little-endian doublewords), kept in a bounded ring.
//
// One deliberate difference from the spec's in-memory fault queue: that queue is drained by software, and when it
// is full the IOMMU discards the *new* record and sets fqcsr.fqof. vmio's log is read by the hypervisor's metrics
// and by people after the fact, for whom the most recent faults matter most, so a full log drops the *oldest*
// record and counts it in `overflows`. Per-device and per-cause counts include every fault, dropped or not.

import { TTYP_NONE } from './spec.js';

export interface IommuFaultRecord {
  /** Order of recording, from 0 (not a spec field). */
  readonly seq: number;
  readonly cause: number;
  readonly ttyp: number;
  /** device_id (DID). PV, PID and PRIV are 0: vmio's transactions carry no process_id. */
  readonly did: number;
  /** The IOVA for transactions with one. */
  readonly iotval: number;
  /** For guest-page faults, the guest physical address (bits 63:2; bit 0 = 0: not an implicit access). */
  readonly iotval2: number;
}

export const FAULT_RECORD_BYTES = 32;

/** The 32-byte fault-queue record of `r`. */
export function encodeFaultRecord(r: Omit<IommuFaultRecord, 'seq'>): Uint8Array {
  const b = new Uint8Array(FAULT_RECORD_BYTES);
  const v = new DataView(b.buffer);
  // Doubleword 0: CAUSE 11:0, PID 31:12, PV 32, PRIV 33, TTYP 39:34, DID 63:40.
  const dw0 = BigInt(r.cause & 0xfff) | (BigInt(r.ttyp & 0x3f) << 34n) | (BigInt(r.ttyp === TTYP_NONE ? 0 : r.did & 0xff_ffff) << 40n);
  v.setBigUint64(0, dw0, true);
  // Doubleword 1: custom 31:0, reserved 63:32 — zero.
  v.setBigUint64(16, BigInt(r.iotval), true);
  v.setBigUint64(24, BigInt(r.iotval2), true);
  return b;
}

/** Decodes a 32-byte fault-queue record (seq is not part of the format: 0). */
export function decodeFaultRecord(b: Uint8Array): IommuFaultRecord {
  if (b.length !== FAULT_RECORD_BYTES) throw new RangeError(`a fault record is ${FAULT_RECORD_BYTES} bytes, not ${b.length}`);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const dw0 = v.getBigUint64(0, true);
  return {
    seq: 0, cause: Number(dw0 & 0xfffn), ttyp: Number((dw0 >> 34n) & 0x3fn), did: Number(dw0 >> 40n),
    iotval: Number(v.getBigUint64(16, true)), iotval2: Number(v.getBigUint64(24, true)),
  };
}

export class FaultLog {
  readonly capacity: number;
  private readonly cause: Uint16Array;
  private readonly ttyp: Uint8Array;
  private readonly did: Uint32Array;
  private readonly iotval: Float64Array;
  private readonly iotval2: Float64Array;
  private readonly seqs: Float64Array;
  private head = 0;
  private count = 0;
  /** Faults recorded since creation. */
  total = 0;
  /** Records dropped because the log was full (the oldest go first). */
  overflows = 0;
  private readonly perDevice = new Map<number, number>();
  private readonly perCause = new Map<number, number>();

  constructor(capacity = 256) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`fault log capacity ${capacity}`);
    this.capacity = capacity;
    this.cause = new Uint16Array(capacity);
    this.ttyp = new Uint8Array(capacity);
    this.did = new Uint32Array(capacity);
    this.iotval = new Float64Array(capacity);
    this.iotval2 = new Float64Array(capacity);
    this.seqs = new Float64Array(capacity);
  }

  record(did: number, cause: number, ttyp: number, iotval: number, iotval2: number): void {
    let slot: number;
    if (this.count === this.capacity) {
      slot = this.head;
      this.head = (this.head + 1) % this.capacity;
      this.overflows++;
    } else {
      slot = (this.head + this.count) % this.capacity;
      this.count++;
    }
    this.cause[slot] = cause;
    this.ttyp[slot] = ttyp;
    this.did[slot] = did;
    this.iotval[slot] = iotval;
    this.iotval2[slot] = iotval2;
    this.seqs[slot] = this.total++;
    this.perDevice.set(did, (this.perDevice.get(did) ?? 0) + 1);
    this.perCause.set(cause, (this.perCause.get(cause) ?? 0) + 1);
  }

  /** Records held, oldest first. */
  records(): IommuFaultRecord[] {
    const out: IommuFaultRecord[] = [];
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) % this.capacity;
      out.push({
        seq: this.seqs[i]!, cause: this.cause[i]!, ttyp: this.ttyp[i]!, did: this.did[i]!,
        iotval: this.iotval[i]!, iotval2: this.iotval2[i]!,
      });
    }
    return out;
  }

  /** Records held, oldest first, and empties the log (the counts stay). */
  drain(): IommuFaultRecord[] {
    const out = this.records();
    this.head = 0;
    this.count = 0;
    return out;
  }

  get length(): number { return this.count; }

  /** Faults of device `did` since creation. */
  byDevice(did: number): number { return this.perDevice.get(did) ?? 0; }

  toJSON(): object {
    const hex = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;
    return {
      total: this.total, held: this.count, overflows: this.overflows,
      byDevice: Object.fromEntries([...this.perDevice].sort((a, b) => a[0] - b[0]).map(([d, n]) => [hex(d), n])),
      byCause: Object.fromEntries([...this.perCause].sort((a, b) => a[0] - b[0])),
    };
  }
}
