/* status (exec pools): whether a system call number is accept(2) or accept4(2), the call an
   exec'd FastCGI program (php-cgi, libfcgi) blocks in while it waits for a request. The
   numbers differ per architecture; <sys/syscall.h> knows them. */
#include "CFPMShims.h"
#include <sys/syscall.h>

int cfpm_is_accept_syscall(long number) {
#ifdef SYS_accept
    if (number == SYS_accept) return 1;
#endif
#ifdef SYS_accept4
    if (number == SYS_accept4) return 1;
#endif
    return 0;
}
