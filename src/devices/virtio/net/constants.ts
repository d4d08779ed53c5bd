// virtio-net wire formats and constants (virtio 1.2 §5.1; names as in Linux 6.12 include/uapi/linux/virtio_net.h):
// feature bits (§5.1.3), struct virtio_net_config (§5.1.4), struct virtio_net_hdr_v1 (§5.1.6), the control
// queue's classes, commands and acks (§5.1.6.5), and the queue layout (§5.1.2).

// Feature bits (§5.1.3): bit numbers.
export const VIRTIO_NET_F_CSUM = 0;
export const VIRTIO_NET_F_GUEST_CSUM = 1;
export const VIRTIO_NET_F_CTRL_GUEST_OFFLOADS = 2;
export const VIRTIO_NET_F_MTU = 3;
export const VIRTIO_NET_F_MAC = 5;
export const VIRTIO_NET_F_GUEST_TSO4 = 7;
export const VIRTIO_NET_F_GUEST_TSO6 = 8;
export const VIRTIO_NET_F_GUEST_ECN = 9;
export const VIRTIO_NET_F_GUEST_UFO = 10;
export const VIRTIO_NET_F_HOST_TSO4 = 11;
export const VIRTIO_NET_F_HOST_TSO6 = 12;
export const VIRTIO_NET_F_HOST_ECN = 13;
export const VIRTIO_NET_F_HOST_UFO = 14;
export const VIRTIO_NET_F_MRG_RXBUF = 15;
export const VIRTIO_NET_F_STATUS = 16;
export const VIRTIO_NET_F_CTRL_VQ = 17;
export const VIRTIO_NET_F_CTRL_RX = 18;
export const VIRTIO_NET_F_CTRL_VLAN = 19;
export const VIRTIO_NET_F_CTRL_RX_EXTRA = 20;
export const VIRTIO_NET_F_GUEST_ANNOUNCE = 21;
export const VIRTIO_NET_F_MQ = 22;
export const VIRTIO_NET_F_CTRL_MAC_ADDR = 23;
export const VIRTIO_NET_F_HOST_USO = 56;
export const VIRTIO_NET_F_GUEST_HDRLEN = 59;
export const VIRTIO_NET_F_RSS = 60;
export const VIRTIO_NET_F_SPEED_DUPLEX = 63;

// struct virtio_net_config (§5.1.4): offsets. mac[6], le16 status, le16 max_virtqueue_pairs, le16 mtu, le32 speed,
// u8 duplex, u8 rss_max_key_size, le16 rss_max_indirection_table_length, le32 supported_hash_types.
export const NET_CFG_MAC = 0;
export const NET_CFG_STATUS = 6;
export const NET_CFG_MAX_VIRTQUEUE_PAIRS = 8;
export const NET_CFG_MTU = 10;
export const NET_CFG_SPEED = 12;
export const NET_CFG_DUPLEX = 16;
export const NET_CONFIG_SIZE = 24;

export const VIRTIO_NET_S_LINK_UP = 1;
export const VIRTIO_NET_S_ANNOUNCE = 2;
/** ethtool's DUPLEX_FULL, the value Linux's virtnet_update_settings() accepts for full duplex. */
export const NET_DUPLEX_FULL = 1;
export const NET_SPEED_UNKNOWN = 0xffff_ffff;

// struct virtio_net_hdr_v1 (§5.1.6): u8 flags, u8 gso_type, le16 hdr_len, le16 gso_size, le16 csum_start,
// le16 csum_offset, le16 num_buffers. With VIRTIO_F_VERSION_1 the header always has num_buffers: 12 bytes.
export const VIRTIO_NET_HDR_SIZE = 12;
export const NET_HDR_FLAGS = 0;
export const NET_HDR_GSO_TYPE = 1;
export const NET_HDR_HDR_LEN = 2;
export const NET_HDR_GSO_SIZE = 4;
export const NET_HDR_CSUM_START = 6;
export const NET_HDR_CSUM_OFFSET = 8;
export const NET_HDR_NUM_BUFFERS = 10;

export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
export const VIRTIO_NET_HDR_F_DATA_VALID = 2;
export const VIRTIO_NET_HDR_F_RSC_INFO = 4;

export const VIRTIO_NET_HDR_GSO_NONE = 0;
export const VIRTIO_NET_HDR_GSO_TCPV4 = 1;
export const VIRTIO_NET_HDR_GSO_UDP = 3;
export const VIRTIO_NET_HDR_GSO_TCPV6 = 4;
export const VIRTIO_NET_HDR_GSO_UDP_L4 = 5;
export const VIRTIO_NET_HDR_GSO_ECN = 0x80;

// Control virtqueue (§5.1.6.5): struct virtio_net_ctrl { u8 class; u8 command; data[]; u8 ack; }.
export const VIRTIO_NET_CTRL_HDR_SIZE = 2;
export const VIRTIO_NET_OK = 0;
export const VIRTIO_NET_ERR = 1;

export const VIRTIO_NET_CTRL_RX = 0;
export const VIRTIO_NET_CTRL_RX_PROMISC = 0;
export const VIRTIO_NET_CTRL_RX_ALLMULTI = 1;
export const VIRTIO_NET_CTRL_RX_ALLUNI = 2;
export const VIRTIO_NET_CTRL_RX_NOMULTI = 3;
export const VIRTIO_NET_CTRL_RX_NOUNI = 4;
export const VIRTIO_NET_CTRL_RX_NOBCAST = 5;

export const VIRTIO_NET_CTRL_MAC = 1;
export const VIRTIO_NET_CTRL_MAC_TABLE_SET = 0;
export const VIRTIO_NET_CTRL_MAC_ADDR_SET = 1;

export const VIRTIO_NET_CTRL_VLAN = 2;
export const VIRTIO_NET_CTRL_ANNOUNCE = 3;

export const VIRTIO_NET_CTRL_MQ = 4;
export const VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET = 0;
export const VIRTIO_NET_CTRL_MQ_RSS_CONFIG = 1;
export const VIRTIO_NET_CTRL_MQ_HASH_CONFIG = 2;
export const VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN = 1;
export const VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX = 0x8000;

export const VIRTIO_NET_CTRL_GUEST_OFFLOADS = 5;

/**
 * Receive buffer size a driver posts without VIRTIO_NET_F_MRG_RXBUF when it can take GSO frames (§5.1.6.3: 65589
 * bytes of packet plus the header; Linux's "big packets" mode posts 12 + 65550).
 */
export const NET_BIG_RX_BUFFER = VIRTIO_NET_HDR_SIZE + 65589;
/** Ethernet header plus a 1500-byte payload: the frame every receive buffer set must be able to hold (§5.1.6.3). */
export const ETH_FRAME_LEN = 1514;

/** Queue roles in the layout of §5.1.2: rx of pair k at 2k, tx at 2k+1, controlq at 2N. */
export function rxQueueIndex(pair: number): number { return 2 * pair; }
export function txQueueIndex(pair: number): number { return 2 * pair + 1; }
