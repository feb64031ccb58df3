/*
 * The bench's fast masters and upstreams: a DNS server over UDP that answers every A question
 * with one address (any other type: no records), taking up to 64 queries per system call
 * (recvmmsg) and sending the answers the same way (sendmmsg).
 *
 * Why it exists: in the uncached cases dnsmasq --all-servers sends each query to all three
 * masters, so the masters, which share one CPU with dnsperf, must answer three times the peer's
 * rate. NSD and dnsmasq answering `--address=/mesos/...` cost 12-16 us per answer on the bench's
 * machine, which makes the masters the limit of dnsmasq's figure; this costs about 6, most of it
 * the kernel's delivery of the answer. servers.ts starts one per master and upstream.
 *
 * It echoes an EDNS OPT record (RFC 6891) when the query has one, offering 1232 bytes, and keeps
 * the question as asked (the answer points at it, RFC 1035 4.1.4). Loopback addresses only, by
 * the bench's rule; it runs until it is killed.
 *
 *   cc -O2 -o fast-server fast-server.c && ./fast-server 127.0.0.11 53053 10.0.0.1 60
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BATCH 64
#define MAX_MESSAGE 1500 /* a query that does not fit is dropped: none of the bench's do not */

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s ADDRESS PORT ANSWER_IPV4 TTL\n", argv[0]);
    return 2;
  }
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
  struct in_addr answer;
  if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1 || inet_pton(AF_INET, argv[3], &answer) != 1) {
    fprintf(stderr, "%s: bad address\n", argv[0]);
    return 2;
  }
  if ((ntohl(addr.sin_addr.s_addr) >> 24) != 127) {
    fprintf(stderr, "%s: %s is not a loopback address\n", argv[0], argv[1]);
    return 2;
  }
  uint32_t ttl = htonl((uint32_t)strtoul(argv[4], NULL, 10));

  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  /* Room for dnsmasq's bursts: three copies of up to 500 queries outstanding. */
  int size = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    perror("fast-server: bind");
    return 1;
  }

  static unsigned char bufs[BATCH][MAX_MESSAGE];
  static struct sockaddr_in from[BATCH];
  static struct iovec iov[BATCH];
  static struct mmsghdr msgs[BATCH];
  static const unsigned char a_record[] = {0xc0, 0x0c, 0, 1, 0, 1}; /* the question's name, A, IN */
  static const unsigned char opt_record[] = {0, 0, 41, 1232 >> 8, 1232 & 0xff, 0, 0, 0, 0, 0, 0};

  for (;;) {
    for (int i = 0; i < BATCH; i++) {
      iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = MAX_MESSAGE};
      msgs[i].msg_hdr = (struct msghdr){.msg_name = &from[i], .msg_namelen = sizeof from[i], .msg_iov = &iov[i], .msg_iovlen = 1};
    }
    int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
    if (n <= 0) continue;
    int out = 0;
    for (int i = 0; i < n; i++) {
      unsigned char *m = bufs[i];
      size_t len = msgs[i].msg_len;
      /* A query (QR clear, opcode QUERY) with one question; anything else is not answered. */
      if (len < 12 || (m[2] & 0xf8) != 0 || m[4] != 0 || m[5] != 1) continue;
      size_t p = 12;
      while (p < len && m[p] != 0 && (m[p] & 0xc0) == 0) p += m[p] + 1u;
      if (p + 5 > len || m[p] != 0) continue;
      p += 5; /* the root label, QTYPE, QCLASS */
      if (p + 16 + sizeof opt_record > MAX_MESSAGE) continue;
      int is_a = m[p - 4] == 0 && m[p - 3] == 1 && m[p - 2] == 0 && m[p - 1] == 1;
      int edns = m[10] == 0 && m[11] == 1 && p + 11 <= len && m[p] == 0 && m[p + 1] == 0 && m[p + 2] == 41;
      m[2] = (unsigned char)(0x80 | 0x04 | (m[2] & 0x01)); /* QR, AA, the client's RD */
      m[3] = 0x80;                                         /* RA, NOERROR */
      m[6] = 0, m[7] = (unsigned char)is_a, m[8] = 0, m[9] = 0, m[10] = 0, m[11] = (unsigned char)edns;
      if (is_a) {
        memcpy(m + p, a_record, sizeof a_record);
        memcpy(m + p + 6, &ttl, 4);
        m[p + 10] = 0, m[p + 11] = 4;
        memcpy(m + p + 12, &answer, 4);
        p += 16;
      }
      if (edns) {
        memcpy(m + p, opt_record, sizeof opt_record);
        p += sizeof opt_record;
      }
      iov[i].iov_len = p;
      msgs[out++].msg_hdr = msgs[i].msg_hdr;
    }
    for (int sent = 0; sent < out;) {
      int r = sendmmsg(fd, msgs + sent, (unsigned)(out - sent), 0);
      if (r <= 0) break; /* a full send buffer: the rest are lost, as a busy server's would be */
      sent += r;
    }
  }
}
