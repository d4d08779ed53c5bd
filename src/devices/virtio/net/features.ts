// The features virtio-net offers (virtio 1.2 §5.1.3, the ones Linux 6.12's virtio_net negotiates and vmio implements)
// and the feature bit requirements of §5.1.3.1 among them: the device offers none whose requirement it does not
// offer, and refuses FEATURES_OK for a driver that accepts one without its requirement.

import { feature, hasFeature } from '../constants.js';
import {
  VIRTIO_NET_F_CSUM, VIRTIO_NET_F_CTRL_MAC_ADDR, VIRTIO_NET_F_CTRL_RX, VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_GUEST_CSUM,
  VIRTIO_NET_F_GUEST_ECN, VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6,
  VIRTIO_NET_F_HOST_ECN, VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6, VIRTIO_NET_F_MAC, VIRTIO_NET_F_MQ,
  VIRTIO_NET_F_MRG_RXBUF, VIRTIO_NET_F_SPEED_DUPLEX, VIRTIO_NET_F_STATUS,
} from './constants.js';

export const NAMES: Readonly<Record<number, string>> = {
  [VIRTIO_NET_F_CSUM]: 'VIRTIO_NET_F_CSUM', [VIRTIO_NET_F_GUEST_CSUM]: 'VIRTIO_NET_F_GUEST_CSUM', [VIRTIO_NET_F_MAC]: 'VIRTIO_NET_F_MAC',
  [VIRTIO_NET_F_HOST_TSO4]: 'VIRTIO_NET_F_HOST_TSO4', [VIRTIO_NET_F_HOST_TSO6]: 'VIRTIO_NET_F_HOST_TSO6', [VIRTIO_NET_F_HOST_ECN]: 'VIRTIO_NET_F_HOST_ECN',
  [VIRTIO_NET_F_MRG_RXBUF]: 'VIRTIO_NET_F_MRG_RXBUF', [VIRTIO_NET_F_STATUS]: 'VIRTIO_NET_F_STATUS', [VIRTIO_NET_F_CTRL_VQ]: 'VIRTIO_NET_F_CTRL_VQ',
  [VIRTIO_NET_F_CTRL_RX]: 'VIRTIO_NET_F_CTRL_RX', [VIRTIO_NET_F_MQ]: 'VIRTIO_NET_F_MQ', [VIRTIO_NET_F_CTRL_MAC_ADDR]: 'VIRTIO_NET_F_CTRL_MAC_ADDR',
  [VIRTIO_NET_F_SPEED_DUPLEX]: 'VIRTIO_NET_F_SPEED_DUPLEX', [VIRTIO_NET_F_GUEST_TSO4]: 'VIRTIO_NET_F_GUEST_TSO4',
  [VIRTIO_NET_F_GUEST_TSO6]: 'VIRTIO_NET_F_GUEST_TSO6', [VIRTIO_NET_F_GUEST_ECN]: 'VIRTIO_NET_F_GUEST_ECN',
};

/** §5.1.3.1 "Feature bit requirements" among the features offered here: each needs one of the listed. */
export const REQUIRES: readonly (readonly [number, readonly number[]])[] = [
  [VIRTIO_NET_F_HOST_TSO4, [VIRTIO_NET_F_CSUM]], [VIRTIO_NET_F_HOST_TSO6, [VIRTIO_NET_F_CSUM]],
  [VIRTIO_NET_F_HOST_ECN, [VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6]], [VIRTIO_NET_F_CTRL_RX, [VIRTIO_NET_F_CTRL_VQ]],
  [VIRTIO_NET_F_GUEST_TSO4, [VIRTIO_NET_F_GUEST_CSUM]], [VIRTIO_NET_F_GUEST_TSO6, [VIRTIO_NET_F_GUEST_CSUM]],
  [VIRTIO_NET_F_GUEST_ECN, [VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6]],
  [VIRTIO_NET_F_MQ, [VIRTIO_NET_F_CTRL_VQ]], [VIRTIO_NET_F_CTRL_MAC_ADDR, [VIRTIO_NET_F_CTRL_VQ]],
];

/** The first requirement `f` breaks, as a message, or null. */
export function brokenRequirement(f: bigint): string | null {
  for (const [bit, needs] of REQUIRES) {
    if (hasFeature(f, bit) && !needs.some((n) => hasFeature(f, n))) return `${NAMES[bit]} without ${needs.map((n) => NAMES[n]).join(' or ')}`;
  }
  return null;
}

/** The device feature bits: the defaults, MQ and SPEED_DUPLEX when configured, less `without` and what needs it. */
export function offeredFeatures(opts: { multiqueue: boolean; speedDuplex: boolean; without: readonly number[] }): bigint {
  const offer = [VIRTIO_NET_F_CSUM, VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_MAC, VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6,
    VIRTIO_NET_F_HOST_ECN, VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_GUEST_ECN, VIRTIO_NET_F_MRG_RXBUF, VIRTIO_NET_F_STATUS, VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_CTRL_RX,
    VIRTIO_NET_F_CTRL_MAC_ADDR];
  if (opts.multiqueue) offer.push(VIRTIO_NET_F_MQ);
  if (opts.speedDuplex) offer.push(VIRTIO_NET_F_SPEED_DUPLEX);
  const without = new Set(opts.without);
  let f = offer.filter((b) => !without.has(b)).reduce((acc, b) => acc | feature(b), 0n);
  // Drop what lost its requirement, to a fixed point (HOST_ECN needs TSO, which needs CSUM).
  for (;;) {
    const broken = REQUIRES.find(([b, needs]) => hasFeature(f, b) && !needs.some((n) => hasFeature(f, n)));
    if (broken === undefined) return f;
    f &= ~feature(broken[0]);
  }
}
