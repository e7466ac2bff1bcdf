/* A minimal libfcgi responder, run by a swift-fpm `exec` pool: the worker execs it with the
 * pool's listening socket as descriptor 0, and FCGX_Accept_r accepts on it. */
#include <fcgiapp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    FCGX_Request request;
    long served = 0;
    if (FCGX_Init() != 0) return 1;
    if (FCGX_InitRequest(&request, 0, 0) != 0) return 1;
    while (FCGX_Accept_r(&request) >= 0) {
        const char *uri = FCGX_GetParam("REQUEST_URI", request.envp);
        const char *length = FCGX_GetParam("CONTENT_LENGTH", request.envp);
        long body = 0;
        char buffer[8192];
        int n;
        while ((n = FCGX_GetStr(buffer, sizeof buffer, request.in)) > 0) body += n;
        served++;
        FCGX_FPrintF(request.out,
                     "Content-Type: text/plain\r\n"
                     "X-Worker-PID: %d\r\n"
                     "\r\n"
                     "hello from libfcgi\n"
                     "pid %d\n"
                     "served %ld\n"
                     "uri %s\n"
                     "content-length %s\n"
                     "body %ld\n"
                     "web-server-addrs %s\n",
                     (int)getpid(), (int)getpid(), served, uri ? uri : "", length ? length : "", body,
                     getenv("FCGI_WEB_SERVER_ADDRS") ? getenv("FCGI_WEB_SERVER_ADDRS") : "(unset)");
        FCGX_Finish_r(&request);
    }
    return 0;
}
