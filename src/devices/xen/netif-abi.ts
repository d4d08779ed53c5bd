// The netif ring ABI (Linux 6.12 include/xen/interface/io/netif.h and io/ring.h), with netback's own limits from
// drivers/net/xen-netback/common.h and netback.c.

// io/ring.h: struct <name>_sring { RING_IDX req_prod, req_event, rsp_prod, rsp_event; uint8_t __pad[48]; entries }.
export const SRING_REQ_PROD = 0;
export const SRING_REQ_EVENT = 4;
export const SRING_RSP_PROD = 8;
export const SRING_RSP_EVENT = 12;
export const SRING_ENTRIES = 64;
/** __RING_SIZE: (4096 - 64) / entry size, rounded down to a power of two; 256 for both netif rings. */
export const NET_TX_RING_SIZE = 256;
export const NET_RX_RING_SIZE = 256;
/** A ring slot is a union of request and response: tx 12 bytes (the request), rx 8. */
export const TX_SLOT = 12;
export const RX_SLOT = 8;

// struct xen_netif_tx_request {grant_ref_t gref; u16 offset, flags, id, size} and xen_netif_tx_response {u16 id; s16 status}.
export const TXREQ_GREF = 0;
export const TXREQ_OFFSET = 4;
export const TXREQ_FLAGS = 6;
export const TXREQ_ID = 8;
export const TXREQ_SIZE = 10;
export const TXRSP_ID = 0;
export const TXRSP_STATUS = 2;
export const XEN_NETTXF_csum_blank = 1 << 0;
export const XEN_NETTXF_data_validated = 1 << 1;
export const XEN_NETTXF_more_data = 1 << 2;
export const XEN_NETTXF_extra_info = 1 << 3;

// struct xen_netif_extra_info {u8 type, flags; union {gso {u16 size; u8 type, pad; u16 features} ...}}: 8 bytes.
export const EXTRA_TYPE = 0;
export const EXTRA_FLAGS = 1;
export const EXTRA_GSO_SIZE = 2;
export const EXTRA_GSO_TYPE = 4;
export const XEN_NETIF_EXTRA_TYPE_NONE = 0;
export const XEN_NETIF_EXTRA_TYPE_GSO = 1;
export const XEN_NETIF_EXTRA_TYPE_MCAST_ADD = 2;
export const XEN_NETIF_EXTRA_TYPE_MCAST_DEL = 3;
export const XEN_NETIF_EXTRA_TYPE_MAX = 6;
export const XEN_NETIF_EXTRA_FLAG_MORE = 1 << 0;
export const XEN_NETIF_GSO_TYPE_NONE = 0;
export const XEN_NETIF_GSO_TYPE_TCPV4 = 1;
export const XEN_NETIF_GSO_TYPE_TCPV6 = 2;

// struct xen_netif_rx_request {u16 id, pad; grant_ref_t gref}; xen_netif_rx_response {u16 id, offset, flags; s16 status}.
export const RXREQ_ID = 0;
export const RXREQ_GREF = 4;
export const RXRSP_ID = 0;
export const RXRSP_OFFSET = 2;
export const RXRSP_FLAGS = 4;
export const RXRSP_STATUS = 6;
export const XEN_NETRXF_data_validated = 1 << 0;
export const XEN_NETRXF_csum_blank = 1 << 1;
export const XEN_NETRXF_more_data = 1 << 2;
export const XEN_NETRXF_extra_info = 1 << 3;

export const XEN_NETIF_RSP_DROPPED = -2;
export const XEN_NETIF_RSP_ERROR = -1;
export const XEN_NETIF_RSP_OKAY = 0;
/** The response of an extra-info slot. */
export const XEN_NETIF_RSP_NULL = 1;

/** Slots a packet may use: netfront never needs more (netif.h). */
export const XEN_NETIF_NR_SLOTS_MIN = 18;
/** netback's XEN_NETBK_LEGACY_SLOTS_MAX: more slots and the packet is dropped... */
export const XEN_NETBK_LEGACY_SLOTS_MAX = XEN_NETIF_NR_SLOTS_MIN;
/** ...and from netback's fatal_skb_slots (FATAL_SKB_SLOTS_DEFAULT) on, the frontend is malicious: disconnect. */
export const FATAL_SKB_SLOTS = 20;
/** The first request's size is the whole packet (u16). */
export const XEN_NETIF_MAX_TX_SIZE = 0xffff;
