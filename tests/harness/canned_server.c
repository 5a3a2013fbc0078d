/* A minimal HTTP/1.1 server answering every request with a canned plaintext response, with
   Server and Date headers: fast enough that wrk, not the server, runs out of CPU (test data). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char resp[256];
static int resp_len;
static time_t resp_time;

static void refresh(void) {
    time_t now = time(NULL);
    if (now == resp_time) return;
    resp_time = now;
    char date[64];
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", gmtime(&now));
    resp_len = snprintf(resp, sizeof resp,
        "HTTP/1.1 200 OK\r\nServer: fast\r\nDate: %s\r\nContent-Type: text/plain\r\n"
        "Content-Length: 13\r\n\r\nHello, World!", date);
}

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 8080;
    int srv = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(srv, (struct sockaddr *)&addr, sizeof addr) || listen(srv, 4096)) return 1;
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = srv}, events[256];
    epoll_ctl(ep, EPOLL_CTL_ADD, srv, &ev);
    static char buf[65536], out[65536];
    for (;;) {
        int n = epoll_wait(ep, events, 256, -1);
        refresh();
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == srv) {
                int c;
                while ((c = accept4(srv, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    ev.events = EPOLLIN; ev.data.fd = c;
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
                }
                continue;
            }
            ssize_t got = read(fd, buf, sizeof buf - 1);
            if (got <= 0) { if (got == 0 || errno != EAGAIN) close(fd); continue; }
            buf[got] = 0;
            int count = 0, len = 0;
            for (char *p = buf; (p = strstr(p, "\r\n\r\n")); p += 4) count++;
            for (int k = 0; k < count && len + resp_len < (int)sizeof out; k++) {
                memcpy(out + len, resp, resp_len); len += resp_len;
            }
            if (len && write(fd, out, len) < 0) close(fd);
        }
    }
}
