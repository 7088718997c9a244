/*
 * xenbox's lwIP options: IPv4 TCP/UDP with the sequential (netconn) and
 * socket APIs, threads from the Unix port (pthreads), memory from malloc.
 * Names of the socket API keep their lwip_ prefix so that they never clash
 * with the C library's.
 */
#ifndef XB_LWIPOPTS_H
#define XB_LWIPOPTS_H

#define NO_SYS                      0
#define SYS_LIGHTWEIGHT_PROT        1
#define LWIP_TCPIP_CORE_LOCKING     1
#define LWIP_NETIF_API              1

/* Protocols */
#define LWIP_IPV4                   1
#define LWIP_IPV6                   0
#define LWIP_ARP                    1
#define LWIP_ETHERNET               1
#define LWIP_ICMP                   1
#define LWIP_TCP                    1
#define LWIP_UDP                    1
#define LWIP_RAW                    0
#define LWIP_DHCP                   1
#define LWIP_AUTOIP                 0
#define LWIP_IGMP                   0
#define LWIP_DNS                    0
#define IP_REASSEMBLY               1
#define IP_FRAG                     1

/* APIs */
#define LWIP_NETCONN                1
#define LWIP_SOCKET                 1
#define LWIP_COMPAT_SOCKETS         0
#define LWIP_POSIX_SOCKETS_IO_NAMES 0
#define LWIP_SOCKET_SELECT          1
#define LWIP_SOCKET_POLL            1
#define LWIP_TIMEVAL_PRIVATE        0   /* struct timeval from <sys/time.h> */
#define LWIP_SO_RCVTIMEO            1
#define LWIP_SO_SNDTIMEO            1

/* Memory: the C library's allocator instead of static pools. */
#define MEM_LIBC_MALLOC             1
#define MEMP_MEM_MALLOC             1
#define MEM_ALIGNMENT               8

/* TCP sizing */
#define TCP_MSS                     1460
#define TCP_WND                     (8 * TCP_MSS)
#define TCP_SND_BUF                 (8 * TCP_MSS)
#define TCP_SND_QUEUELEN            ((4 * TCP_SND_BUF) / TCP_MSS)
#define MEMP_NUM_TCP_PCB            16
#define MEMP_NUM_NETCONN            16

/* Thread mailboxes (sizes only matter to the Unix port's sys_arch). */
#define TCPIP_THREAD_NAME           "lwip"
#define TCPIP_MBOX_SIZE             64
#define DEFAULT_TCP_RECVMBOX_SIZE   64
#define DEFAULT_UDP_RECVMBOX_SIZE   64
#define DEFAULT_ACCEPTMBOX_SIZE     16

#define LWIP_STATS                  0
#define LWIP_DEBUG                  0

#endif /* XB_LWIPOPTS_H */
