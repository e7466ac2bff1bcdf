import Glibc

/// `/sleep`'s wait, a function of its own so the slowlog's stack has a frame that names it.
@inline(never)
func slowRouteSleep(milliseconds ms: Int) {
    var ts = timespec(tv_sec: ms / 1000, tv_nsec: (ms % 1000) * 1_000_000)
    var rest = timespec()
    while nanosleep(&ts, &rest) == -1 && errno == EINTR { ts = rest }
}
